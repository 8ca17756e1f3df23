"""The raw RPCs of a stage change (store/firestore_rpc.py) read what the library reads and fail
as the library fails, and the emulator's faster paths (tools/firestore-emulator/serve.js) answer
as the package's own (FIRESTORE_EMULATOR_STOCK=1)."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from google.api_core import exceptions as gexc
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import And, FieldFilter, Or

from store.firestore_rpc import Found, rpc_for
from store.firestore_writes import Writes
from tests.support.firestore_emulator import EMULATOR

WHEN = datetime(2026, 11, 25, 15, 0, 1, 123000, tzinfo=UTC)
# What other services may keep on a shared document, besides our JSON-shaped fields.
DOCUMENTS: dict[str, dict[str, Any]] = {
    "plain": {"a": 1, "b": "two", "c": None, "d": True, "e": 1.5, "f": [1, "x", None]},
    "nested": {"m": {"k": {"deep": [1, {"x": 2}]}, "empty": {}}, "l": []},
    "typed": {"at": WHEN, "raw": b"\x00\x01", "n": -(2**31)},
    # The edges of serve.js's own encoding of a found document (`encodedReads`).
    "edges": {
        "zero": 0,
        "big": 2**31,
        "huge": 2**52 + 1,
        "below": -1,
        "off": False,
        "empty": "",
        "text": "é 漢字 \U0001f600",
        "real": 0.0,
        "negative": -1.25e-300,
        "arrays": [[], [[1, 2], {"a": None}], [0.5, True]],
        "long": "x" * 300,
        "`odd.key`": {"nested.dot": 1},
        "point": firestore.GeoPoint(1.5, -2.25),
    },
}


@pytest.fixture
async def client(firestore_emulator_host: str) -> AsyncIterator[firestore.AsyncClient]:
    os.environ["FIRESTORE_EMULATOR_HOST"] = firestore_emulator_host
    made = firestore.AsyncClient(project=f"rpc-{uuid.uuid4().hex[:8]}")
    try:
        yield made
    finally:
        made.close()


async def _seed(client: firestore.AsyncClient, prefix: str) -> list[str]:
    paths = [f"{prefix}/things/{name}" for name in DOCUMENTS]
    for path, data in zip(paths, DOCUMENTS.values(), strict=True):
        await client.document(path).set(data)
    return paths


async def test_a_raw_read_is_what_get_all_reads(client: firestore.AsyncClient) -> None:
    paths = [*await _seed(client, "rpc/one"), "rpc/one/things/missing"]
    found = await rpc_for(client).read(paths)
    snaps = {s.reference.path: s async for s in client.get_all([client.document(p) for p in paths])}
    assert list(found) == paths  # in the order asked
    for path in paths:
        snap, ours = snaps[path], found[path]
        if not snap.exists:
            assert ours is None
            continue
        assert isinstance(ours, Found)
        assert ours.data == snap.to_dict()
        assert ours.update_time.ToDatetime(tzinfo=UTC) == snap.update_time


async def test_a_lost_create_raises_what_the_library_raises(client: firestore.AsyncClient) -> None:
    ref = client.document(f"rpc/t/taken/{uuid.uuid4().hex}")
    await ref.create({"mine": True})
    writes = Writes(client)
    writes.create(ref, {"mine": False})
    with pytest.raises(gexc.AlreadyExists):
        await writes.commit()
    with pytest.raises(gexc.AlreadyExists):  # the library's own batch, for comparison
        batch = client.batch()
        batch.create(ref, {"mine": False})
        await batch.commit()
    assert (await ref.get()).to_dict() == {"mine": True}


async def test_a_path_and_a_reference_name_the_same_document(
    client: firestore.AsyncClient,
) -> None:
    writes = Writes(client)
    writes.set("rpc/s/same/one", {"v": 1})
    writes.set(client.document("rpc/s/same/one"), {"v": 1})
    assert writes.pbs[0] == writes.pbs[1]


@pytest.fixture(scope="module")
def stock_host() -> Iterator[str]:
    node = shutil.which("node")
    assert node is not None
    process = subprocess.Popen(
        [node, "serve.js", "0"],
        cwd=EMULATOR,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "FIRESTORE_EMULATOR_STOCK": "1"},
    )
    assert process.stdout is not None
    line = process.stdout.readline().split()
    try:
        yield line[1]
    finally:
        process.terminate()
        process.wait(10)


async def _queried(client: firestore.AsyncClient) -> list[list[str]]:
    """The ids each kind of query lists, before and after writes (serve.js runs queries itself,
    `fasterQueries` and `equalityIndexes`)."""
    rows = client.collection("same/one/rows")
    for n in range(12):
        data: dict[str, Any] = {"n": n, "k": f"k{n % 3}", "tags": [n % 2, "t"]}
        if n % 4:
            data["odd"] = n % 2 == 1
        await rows.document(f"r{n:02d}").set(data)
    queries = [
        rows.where(filter=FieldFilter("k", "==", "k1")),
        rows.where(filter=FieldFilter("n", ">=", 7)),
        rows.where(filter=FieldFilter("n", "<", 3)),
        rows.where(filter=FieldFilter("k", "in", ["k0", "k2"])),
        rows.where(filter=FieldFilter("k", "not-in", ["k0"])),
        rows.where(filter=FieldFilter("k", "!=", "k1")),
        rows.where(filter=FieldFilter("tags", "array_contains", 1)),
        rows.where(filter=FieldFilter("tags", "array_contains_any", [0, "x"])),
        rows.where(filter=And([FieldFilter("k", "==", "k2"), FieldFilter("odd", "==", True)])),
        rows.where(filter=Or([FieldFilter("n", "==", 1), FieldFilter("n", "==", 10)])),
        rows.order_by("odd", direction="DESCENDING").order_by("n").limit(7),
        rows.where(filter=FieldFilter("n", ">", 2)).order_by("n", direction="DESCENDING"),
        rows.limit(3),
    ]
    before = [[s.id async for s in query.stream()] for query in queries]
    # What an index built by the first queries must follow (serve.js `equalityIndexes`).
    await rows.document("r01").update({"k": "k2", "odd": None})
    await rows.document("r04").delete()
    await rows.document("r05").set({"n": 5.0, "k": 1})
    await rows.document("10").set({"n": 1, "k": "k1"})
    await rows.document("r13").create({"n": 13, "k": "k1", "odd": True})
    queries += [rows.where(filter=FieldFilter("odd", "==", None))]
    queries += [rows.where(filter=FieldFilter("n", "==", 5.0))]
    return before + [[s.id async for s in query.stream()] for query in queries]


async def test_the_faster_emulator_answers_as_the_stock_one(
    client: firestore.AsyncClient, stock_host: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", stock_host)  # read by the Google client
    stock = firestore.AsyncClient(project=client.project)
    try:
        answers = []
        for one in (client, stock):
            paths = [*await _seed(one, "same/one"), "same/one/things/missing"]
            await one.document("same/one/things/plain").update({"b": "three"})
            # Masked writes of nested maps, and a create after a delete (serve.js writes them
            # itself, `plainDocumentWrites`).
            nested = one.document("same/one/things/nested")
            await nested.update({"m.k.deep": 5, "l": [1]})
            await nested.set({"m": {"added": True}, "new": "n"}, merge=True)
            await nested.update({"m": {"other": 2}})  # a whole map replaced
            plain = one.document("same/one/things/plain")
            await plain.delete()
            await plain.create({"again": 1})
            read = await rpc_for(one).read(paths)
            listed = [s.to_dict() async for s in one.collection("same/one/things").stream()]
            data = [None if f is None else f.data for f in read.values()]
            answers.append((data, listed, await _queried(one)))
        assert answers[0] == answers[1]
    finally:
        stock.close()
