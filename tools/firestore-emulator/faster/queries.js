// The emulator package's queries: filters read once, equalities answered from an index.
"use strict";
const {
  FirestoreState,
  FirestoreStateCollection,
  FirestoreStateDocument,
} = require("@firestore-emulator/server");

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

module.exports = { fasterQueries, equalityIndexes };
