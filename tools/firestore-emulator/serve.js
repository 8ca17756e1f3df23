// Usage: node serve.js [port]   (port 0 = any free port)
// Prints "listening 127.0.0.1:<port>" once ready, then serves until stdin closes or a signal.
"use strict";
const { ServerCredentials } = require("@grpc/grpc-js");
const {
  FirestoreServer,
  FirestoreStateCollection,
  FirestoreStateDocument,
} = require("@firestore-emulator/server");

// The package's collection copies its whole document map (immer `produce`) each time it is asked
// for a document it has not seen, a read of a missing document included: every create costs
// O(documents in the collection), so a tenant's commits slow down as its records and audit
// events pile up (measured: ~2 ms of the emulator's ~7 ms per stage change at 500 records, and
// growing). Firestore has no such cost. Same result, found or added in place; FIRESTORE_EMULATOR_STOCK=1
// keeps the package's own lookup (to measure it).
function constantTimeLookups() {
  const has = Object.prototype.hasOwnProperty;
  FirestoreStateCollection.prototype.getDocument = function getDocument(documentName) {
    if (has.call(this.documents, documentName)) return this.documents[documentName];
    if (Object.isFrozen(this.documents)) this.documents = { ...this.documents }; // once
    const document = new FirestoreStateDocument(
      this.emitter,
      this.database,
      this,
      documentName,
      {},
      {},
    );
    this.documents[documentName] = document;
    return document;
  };
}

function main() {
  if (!process.env.FIRESTORE_EMULATOR_STOCK) constantTimeLookups();
  const port = Number(process.argv[2] || 0);
  const emulator = new FirestoreServer();
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
