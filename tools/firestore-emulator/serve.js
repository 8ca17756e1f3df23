// Usage: node serve.js [port]   (port 0 = any free port)
// Prints "listening 127.0.0.1:<port>" once ready, then serves until stdin closes or a signal.
"use strict";
const { ServerCredentials } = require("@grpc/grpc-js");
const { FirestoreServer } = require("@firestore-emulator/server");
// Faster paths through the package, each the same behaviour (tests/store/test_firestore_rpc.py
// compares the answers with the stock emulator's); FIRESTORE_EMULATOR_STOCK=1 leaves them out.
const { constantTimeLookups, fasterPaths } = require("./faster/lookups");
const { plainDocumentWrites } = require("./faster/writes");
const { encodedReads } = require("./faster/reads");
const { fasterQueries, equalityIndexes } = require("./faster/queries");

function main() {
  if (!process.env.FIRESTORE_EMULATOR_STOCK) {
    constantTimeLookups();
    fasterPaths();
    plainDocumentWrites();
    fasterQueries();
    equalityIndexes();
  }
  const port = Number(process.argv[2] || 0);
  const emulator = new FirestoreServer();
  if (!process.env.FIRESTORE_EMULATOR_STOCK) encodedReads(emulator.server, emulator.state);
  // FirestoreServer.start() binds every interface and hides the port it got; bind its gRPC
  // server ourselves so the emulator listens on loopback only and can report an ephemeral port.
  const host = process.env.BIND_HOST || "127.0.0.1"; // loopback unless a container asks
  emulator.server.bindAsync(`${host}:${port}`, ServerCredentials.createInsecure(), (err, bound) => {
    if (err) {
      process.stderr.write(`${err.stack || err}\n`);
      process.exit(1);
    }
    process.stdout.write(`listening ${host}:${bound}\n`);
  });
  const stop = () => {
    emulator.stop();
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  process.stdin.on("end", stop);
  process.stdin.resume();
}

main();
