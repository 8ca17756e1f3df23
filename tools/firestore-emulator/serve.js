// Usage: node serve.js [port]   (port 0 = any free port)
// Prints "listening 127.0.0.1:<port>" once ready, then serves until stdin closes or a signal.
"use strict";
const { ServerCredentials } = require("@grpc/grpc-js");
const {
  FirestoreServer,
  FirestoreState,
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

// Every read and write walks its path from the project down, one immer `produce` per level, and
// a read answers with the document converted to a message, back to an object, and to a message
// again. A stage change reads 4-6 documents and writes 6, so that was about a third of the
// emulator's time per commit (measured with --cpu-prof). Documents are never replaced in their
// collection (a delete only marks one missing), nor collections in their parent, so a path's
// document and a path's collection can be remembered until `clear()` (a new document's walk,
// 4 per stage change, is then one lookup); and a document's object form is built straight from
// its fields, the form the round trip through a message gave. tests/store/test_firestore_rpc.py
// checks both emulators answer alike.
function fasterPaths() {
  const cache = Symbol("documents by path");
  const collections = Symbol("collections by path");
  const getCollection = FirestoreState.prototype.getCollection;
  FirestoreState.prototype.getCollection = function cachedGetCollection(path) {
    const known = this[collections] || (this[collections] = new Map());
    let collection = known.get(path);
    if (collection === undefined) {
      collection = getCollection.call(this, path);
      known.set(path, collection);
    }
    return collection;
  };
  const getDocument = FirestoreState.prototype.getDocument;
  FirestoreState.prototype.getDocument = function cachedGetDocument(path) {
    const known = this[cache] || (this[cache] = new Map());
    let document = known.get(path);
    if (document === undefined) {
      document = getDocument.call(this, path);
      known.set(path, document);
    }
    return document;
  };
  const clear = FirestoreState.prototype.clear;
  FirestoreState.prototype.clear = function clearAll() {
    if (this[cache]) this[cache].clear();
    if (this[collections]) this[collections].clear();
    return clear.call(this);
  };
  const stamp = (date) => ({
    nanos: date.getMilliseconds() * 1000 * 1000,
    seconds: Math.floor(date.getTime() / 1000),
  });
  const toObject = FirestoreStateDocument.prototype.toV1DocumentObject;
  FirestoreStateDocument.prototype.toV1DocumentObject = function directObject() {
    if (!this.metadata.hasExist) return toObject.call(this); // as the package does (it throws)
    const fields = {};
    for (const [key, field] of Object.entries(this.fields)) fields[key] = field.toV1ValueObject();
    return {
      create_time: stamp(this.metadata.createdAt),
      fields,
      name: this.getPath(),
      update_time: stamp(this.metadata.updatedAt),
    };
  };
}

// A document's create, update and set each ran two immer `produce` calls (its metadata, its
// fields), a proxy draft per assignment: about a fifth of the emulator's time in a stage change's
// `Commit` of 6 writes (measured with --cpu-prof). The same new objects (copied, frozen, the old
// ones untouched for anyone holding them) are built here directly, with the package's own
// update-mask rules (`updateFields`: a masked-out map field is merged with its nested mask).
function plainDocumentWrites() {
  const quote = (key) => (key.includes(".") ? `\`${key}\`` : key);
  const nested = (mask, key) => {
    const prefix = `${quote(key)}.`;
    return mask.filter((m) => m.startsWith(prefix)).map((m) => m.substring(prefix.length));
  };
  const updatable = (mask, key) => mask.length === 0 || mask.includes(quote(key));
  const updateFields = (current, fields, mask) => {
    let out = null;
    for (const [key, field] of Object.entries(fields)) {
      if (updatable(mask, key)) {
        if (current[key] !== field) (out || (out = { ...current }))[key] = field;
      } else if (
        field.type === "map_value" &&
        (current[key] == null || current[key].type === "map_value")
      ) {
        const MapField = field.constructor;
        const merged = updateFields(current[key]?.value ?? {}, field.value, nested(mask, key));
        (out || (out = { ...current }))[key] = new MapField(merged);
      }
    }
    return out ? Object.freeze(out) : current;
  };
  const stamp = (metadata, changes) => Object.freeze({ ...metadata, ...changes });
  const proto = FirestoreStateDocument.prototype;
  proto.create = function create(date, fields) {
    if (this.metadata.hasExist) throw new Error("Document already exists.");
    this.metadata = stamp(this.metadata, { hasExist: true, createdAt: date, updatedAt: date });
    this.fields = updateFields(this.fields, fields, []);
    this.emitter.emit("create-document", { document: this });
  };
  proto.update = function update(date, fields, updateMask = []) {
    if (!this.metadata.hasExist) throw new Error("Document does not exist.");
    this.metadata = stamp(this.metadata, { updatedAt: date });
    this.fields = updateFields(this.fields, fields, updateMask);
    this.emitter.emit("update-document", { document: this });
  };
  proto.set = function set(date, fields, updateMask = []) {
    const isCreate = !this.metadata.hasExist;
    this.metadata = isCreate
      ? stamp(this.metadata, { hasExist: true, createdAt: date, updatedAt: date })
      : stamp(this.metadata, { updatedAt: date });
    this.fields = updateFields(this.fields, fields, updateMask);
    this.emitter.emit(isCreate ? "create-document" : "update-document", { document: this });
  };
}

// A found document went out as an object, a message built from it (`fromObject`) and that
// message serialized by google-protobuf: about a third of the emulator's time in a stage
// change's read (measured with --cpu-prof). Here a found document is encoded straight from its
// fields into the same protobuf wire form (a timestamp, bytes, reference, geo point or an integer
// below 0 through the package's own `Value` message); a missing one, a transaction and
// everything else stay the package's. tests/store/test_firestore_rpc.py checks both emulators
// answer alike, typed fields included.
function encodedReads(server, state) {
  const { UnimplementedFirestoreService, BatchGetDocumentsResponse } = require(
    "@firestore-emulator/proto/dist/google/firestore/v1/firestore",
  );
  const { Value } = require("@firestore-emulator/proto/dist/google/firestore/v1/document");
  const { TimestampFromNow } = require("@firestore-emulator/server");
  const method = UnimplementedFirestoreService.definition.BatchGetDocuments;

  // Protobuf's wire form, into plain arrays of bytes: a tag or a length is a varint, a message
  // field is its tag, its length and its bytes.
  const varint = (out, n) => {
    while (n > 0x7f) {
      out.push((n & 0x7f) | 0x80);
      n = Math.floor(n / 128);
    }
    out.push(n);
  };
  const append = (out, chunk) => {
    for (let i = 0; i < chunk.length; i++) out.push(chunk[i]);
  };
  const bytes = (out, tag, chunk) => {
    varint(out, tag);
    varint(out, chunk.length);
    append(out, chunk);
  };
  const text = (out, tag, string) => bytes(out, tag, Buffer.from(string, "utf8"));
  const stamp = (seconds, nanos) => {
    const out = [];
    if (seconds !== 0) out.push(0x08), varint(out, seconds);
    if (nanos !== 0) out.push(0x10), varint(out, nanos);
    return out;
  };
  const double = Buffer.alloc(8);
  // Value's fields: boolean 1, integer 2, double 3, map 6, array 9, null 11, string 17.
  const value = (field) => {
    const out = [];
    switch (field.type) {
      case "string_value":
        text(out, (17 << 3) | 2, field.value);
        return out;
      case "null_value":
        return [11 << 3, 0];
      case "boolean_value":
        return [1 << 3, field.value ? 1 : 0];
      case "integer_value":
        if (!(field.value >= 0 && Number.isSafeInteger(field.value))) break; // negative: theirs
        out.push(2 << 3);
        varint(out, field.value);
        return out;
      case "double_value":
        double.writeDoubleLE(field.value);
        out.push((3 << 3) | 1);
        append(out, double);
        return out;
      case "map_value":
        bytes(out, (6 << 3) | 2, mapFields(field.value, (1 << 3) | 2));
        return out;
      case "array_value": {
        const values = [];
        for (const item of field.value) bytes(values, (1 << 3) | 2, value(item));
        bytes(out, (9 << 3) | 2, values);
        return out;
      }
    }
    return Array.from(Value.fromObject(field.toV1ValueObject()).serialize());
  };
  // A map<string, Value> field: one entry message (key 1, value 2) per key, under `tag`.
  const mapFields = (fields, tag) => {
    const out = [];
    for (const [key, field] of Object.entries(fields)) {
      const entry = [];
      text(entry, (1 << 3) | 2, key);
      bytes(entry, (2 << 3) | 2, value(field));
      bytes(out, tag, entry);
    }
    return out;
  };
  const timeOf = (date) =>
    stamp(Math.floor(date.getTime() / 1000), date.getMilliseconds() * 1000 * 1000);
  // BatchGetDocumentsResponse { found 1: Document { name 1, fields 2, create_time 3,
  // update_time 4 }, read_time 4 }
  const found = (document, readTime) => {
    const body = [];
    text(body, (1 << 3) | 2, document.getPath());
    append(body, mapFields(document.fields, (2 << 3) | 2));
    bytes(body, (3 << 3) | 2, timeOf(document.metadata.createdAt));
    bytes(body, (4 << 3) | 2, timeOf(document.metadata.updatedAt));
    const out = [];
    bytes(out, (1 << 3) | 2, body);
    bytes(out, (4 << 3) | 2, stamp(readTime.seconds, readTime.nanos));
    return Buffer.from(out);
  };

  function BatchGetDocuments(call) {
    const date = TimestampFromNow();
    if (call.request.has_new_transaction) {
      const transaction = Uint8Array.from([17, 2, 0, 0, 0, 0, 0, 0, 0]); // as the package does
      call.write(BatchGetDocumentsResponse.fromObject({ transaction }));
    }
    for (const documentPath of call.request.documents) {
      const document = state.getDocument(documentPath);
      call.write(
        document.metadata.hasExist
          ? found(document, date)
          : BatchGetDocumentsResponse.fromObject({ missing: documentPath, read_time: date }),
      );
    }
    call.end();
  }
  const serialize = (message) => (Buffer.isBuffer(message) ? message : method.responseSerialize(message));
  server.unregister(method.path);
  server.register(method.path, BatchGetDocuments, serialize, method.requestDeserialize, "serverStream");
}

function main() {
  if (!process.env.FIRESTORE_EMULATOR_STOCK) {
    constantTimeLookups();
    fasterPaths();
    plainDocumentWrites();
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
