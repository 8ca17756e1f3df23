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

// A query sorted the whole collection, then for every document read its filters back out of
// the request message (google-protobuf getters) and converted each filter's value again: so
// listing one strategy's records cost O(records of the tenant) of that work, and a fleet's
// verification of 2,000 strategies was most of the emulator's time (measured with --cpu-prof).
// Same rules here (the package's `v1Query`: its operators, its handling of a missing field, of
// an unknown filter and of `limit`), with the filters read and their values converted once per
// query, and the documents filtered before they are sorted (a stable sort of the same subset in
// the same order gives the same list, for an order by values of one type as ours are; across
// types the package's comparison is not an order at all). tests/store/test_firestore_rpc.py
// compares the answers with the stock emulator's.
function fasterQueries() {
  const {
    StructuredQueryCompositeFilterOperator: Composite,
    StructuredQueryDirection: Direction,
    StructuredQueryFieldFilterOperator: Op,
  } = require("@firestore-emulator/proto/dist/google/firestore/v1/query");
  const { Write } = require("@firestore-emulator/proto/dist/google/firestore/v1/write");
  const scratch = new FirestoreState();
  const SCRATCH = "projects/scratch/databases/scratch/documents/values/value";
  // A filter's value as the package converts it (`convertV1DocumentField`), by writing it.
  const fieldOf = (value) => {
    const write = Write.fromObject({ update: { name: SCRATCH } });
    write.update.fields.set("v", value);
    scratch.writeV1Document(new Date(), write);
    return scratch.getDocument(SCRATCH).fields.v;
  };
  FirestoreState.prototype.v1QueryValue = fieldOf;
  const isArray = (field) => field.type === "array_value";
  // The package's `v1FilterDocuments`, on a value converted once.
  const predicate = (filter) => {
    const op = filter.op;
    const path = filter.field.field_path;
    const wanted = fieldOf(filter.value);
    return (document) => {
      const field = document.getField(path);
      if (!field) return false;
      if (!path) throw new Error("field_path is required");
      switch (op) {
        case Op.EQUAL:
          return field.eq(wanted);
        case Op.LESS_THAN:
          return field.lt(wanted);
        case Op.LESS_THAN_OR_EQUAL:
          return field.lte(wanted);
        case Op.GREATER_THAN:
          return field.gt(wanted);
        case Op.GREATER_THAN_OR_EQUAL:
          return field.gte(wanted);
        case Op.ARRAY_CONTAINS:
          return isArray(field) && field.value.some((v) => v.eq(wanted));
        case Op.ARRAY_CONTAINS_ANY:
          return (
            isArray(field) && isArray(wanted) && field.value.some((v) => wanted.value.some((w) => v.eq(w)))
          );
        case Op.IN:
          return isArray(wanted) && wanted.value.some((v) => field.eq(v));
        case Op.NOT_EQUAL:
          return !field.eq(wanted);
        case Op.NOT_IN:
          return isArray(wanted) && wanted.value.every((v) => !field.eq(v));
        case Op.OPERATOR_UNSPECIFIED:
          throw new Error(`Invalid query: op is not supported yet, ${Op[op]}`);
        case undefined:
          throw new Error("Invalid query: op is required");
        default:
          throw new Error(`Unhandled value: ${op}`); // the package's assertNever
      }
    };
  };
  const compositeOf = (composite) => {
    const op = composite.op;
    if (op === Composite.OPERATOR_UNSPECIFIED) throw new Error("Invalid query: op is required");
    if (op !== Composite.AND && op !== Composite.OR) throw new Error(`Unhandled value: ${op}`);
    const parts = composite.filters.map((filter) => {
      if (!filter.has_field_filter) {
        return () => {
          console.error("composite_filter only supports field_filter");
          throw new Error("composite_filter only supports field_filter");
        };
      }
      return predicate(filter.field_filter);
    });
    return op === Composite.AND
      ? (document) => parts.every((part) => part(document))
      : (document) => parts.some((part) => part(document));
  };
  // `candidates`: the documents an index left, in the collection's order (equalityIndexes).
  FirestoreState.prototype.v1Query = function v1Query(parent, query, candidates) {
    if (query.from.length !== 1) throw new Error("query.from.length must be 1");
    const { collection_id } = query.from[0] ?? {};
    if (!collection_id) throw new Error("collection_id is not supported");
    const collection = this.getCollection(`${parent}/${collection_id}`);
    let docs = (candidates || collection.getAllDocuments()).filter((v) => v.metadata.hasExist);
    if (query.has_where) {
      const where = query.where;
      if (where.has_field_filter) docs = docs.filter(predicate(where.field_filter));
      if (where.has_composite_filter) docs = docs.filter(compositeOf(where.composite_filter));
    }
    const orders = query.order_by.map(({ field, direction }) => ({
      path: field.field_path,
      direction,
    }));
    if (orders.length > 0) {
      docs.sort((aDocument, bDocument) => {
        for (const { path, direction } of orders) {
          const a = aDocument.getField(path);
          const b = bDocument.getField(path);
          if (!a || !b) {
            if (a && !b) return -1;
            if (!a && b) return 1;
            continue;
          }
          if (a.eq(b)) continue;
          if (direction === Direction.ASCENDING) {
            if (a.lt(b)) return -1;
            if (b.lt(a)) return 1;
          } else if (direction === Direction.DESCENDING) {
            if (a.lt(b)) return 1;
            if (b.lt(a)) return -1;
          }
        }
        return 0;
      });
    }
    if (query.has_limit) docs = docs.slice(0, query.limit.value);
    return docs;
  };
}

// Real Firestore answers an equality filter from its single-field index, at the cost of what
// it returns; the package (and `fasterQueries` above) tests every document of the collection,
// so listing one strategy's records, requests or audit events cost O(the tenant's) and a fleet
// of 2,000 grew quadratically (measured with --cpu-prof: the filter was most of the emulator's
// time in `bench fleet`). Here an equality on a top-level field of a scalar value (string,
// integer, boolean, null, double) first narrows the collection to the documents holding that
// value, through an index built on the first such query of a (collection, field) and kept by
// every write; those candidates, in the collection's own order, then go through the same
// filters, order and limit. The index only narrows: a document it leaves out cannot pass the
// equality (the package's `eq` holds only within one type and value).
function equalityIndexes() {
  const {
    StructuredQueryCompositeFilterOperator: Composite,
    StructuredQueryFieldFilterOperator: Op,
  } = require("@firestore-emulator/proto/dist/google/firestore/v1/query");
  const INDEXES = Symbol("equality indexes by field");
  const ORDER = Symbol("insertion order");
  let inserted = 0;
  // The same key for two fields exactly when one `eq`s the other; undefined: not indexed.
  const keyOf = (field) => {
    if (!field) return undefined;
    switch (field.type) {
      case "string_value":
        return `s${field.value}`;
      case "integer_value":
        return `i${field.value}`;
      case "boolean_value":
        return `b${field.value}`;
      case "null_value":
        return "n";
      case "double_value":
        return Number.isNaN(field.value) ? undefined : `d${field.value}`;
    }
    return undefined;
  };
  const place = (index, document) => {
    const key = keyOf(document.fields[index.path]);
    const old = index.keys.get(document);
    if (old === key) return;
    if (old !== undefined) index.buckets.get(old).delete(document);
    if (key === undefined) {
      index.keys.delete(document);
      return;
    }
    index.keys.set(document, key);
    let bucket = index.buckets.get(key);
    if (!bucket) index.buckets.set(key, (bucket = new Set()));
    bucket.add(document);
  };
  const indexOf = (collection, path) => {
    const all = collection[INDEXES] || (collection[INDEXES] = new Map());
    let index = all.get(path);
    if (!index) {
      index = { path, keys: new Map(), buckets: new Map() };
      for (const document of collection.getAllDocuments()) place(index, document);
      all.set(path, index);
    }
    return index;
  };
  const proto = FirestoreStateDocument.prototype;
  for (const name of ["create", "update", "set", "delete"]) {
    const write = proto[name];
    proto[name] = function indexedWrite(...args) {
      const result = write.apply(this, args);
      const indexes = this.parent[INDEXES];
      if (indexes) for (const index of indexes.values()) place(index, this);
      return result;
    };
  }
  const getDocument = FirestoreStateCollection.prototype.getDocument;
  FirestoreStateCollection.prototype.getDocument = function orderedGetDocument(name) {
    const document = getDocument.call(this, name);
    if (document[ORDER] === undefined) document[ORDER] = inserted++;
    return document;
  };
  // Object.values(documents)'s order: integer-like names first, by value, then by insertion.
  const arrayIndex = (name) => /^(0|[1-9][0-9]*)$/.test(name) && Number(name) < 2 ** 32 - 1;
  const collectionOrder = (a, b) => {
    const ai = arrayIndex(a.name);
    const bi = arrayIndex(b.name);
    if (ai && bi) return Number(a.name) - Number(b.name);
    if (ai !== bi) return ai ? -1 : 1;
    return a[ORDER] - b[ORDER];
  };
  // The filter an index can narrow by, if any: an equality on a plain field, alone or in an AND
  // of field filters only (so every filter the package would test is tested here too).
  const narrowing = (where) => {
    const usable = (f) =>
      f.op === Op.EQUAL &&
      f.field.field_path &&
      !f.field.field_path.includes(".") &&
      !f.field.field_path.includes("`");
    if (where.has_field_filter) return usable(where.field_filter) ? where.field_filter : null;
    if (!where.has_composite_filter) return null;
    const composite = where.composite_filter;
    if (composite.op !== Composite.AND) return null;
    const filters = composite.filters;
    if (!filters.every((f) => f.has_field_filter)) return null;
    const found = filters.find((f) => usable(f.field_filter));
    return found ? found.field_filter : null;
  };
  const query = FirestoreState.prototype.v1Query;
  const fieldOf = FirestoreState.prototype.v1QueryValue;
  FirestoreState.prototype.v1Query = function indexedQuery(parent, structured) {
    const by = structured.has_where ? narrowing(structured.where) : null;
    if (!by || structured.from.length !== 1 || !structured.from[0]?.collection_id) {
      return query.call(this, parent, structured);
    }
    const key = keyOf(fieldOf(by.value));
    if (key === undefined) return query.call(this, parent, structured);
    const collection = this.getCollection(`${parent}/${structured.from[0].collection_id}`);
    const bucket = indexOf(collection, by.field.field_path).buckets.get(key);
    const candidates = bucket ? [...bucket].sort(collectionOrder) : [];
    return query.call(this, parent, structured, candidates);
  };
}

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
