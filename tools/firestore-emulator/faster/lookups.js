// The emulator package's document and collection lookups, in constant time.
"use strict";
const {
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

module.exports = { constantTimeLookups, fasterPaths };
