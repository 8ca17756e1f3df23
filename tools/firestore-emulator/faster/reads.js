// The emulator package's BatchGetDocuments, a found document encoded straight to protobuf.
"use strict";

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

module.exports = { encodedReads };
