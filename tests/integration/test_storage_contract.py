"""The table-layer contract, run unchanged on every storage engine (see ``engine`` in conftest).

Tables are declared here and migrated with versions >= 9000 so they can live in the keyspace the
scylla engine shares for the whole session; each test writes under its own random keys.
"""

from __future__ import annotations

import asyncio
import math
import random
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta, timezone

import pytest

from infrastructure.storage.schema import AddColumn, Column, Migration, Order, table
from infrastructure.storage.schema import ColumnType as T
from infrastructure.storage.store import Bound, Comparison, InvalidCursor, Page, Row, TableStore

ITEMS = table("contract_items", {
    "k": T.TEXT, "label": T.TEXT, "n": T.INT, "total": T.BIGINT, "ratio": T.DOUBLE, "flag": T.BOOLEAN,
    "owner": T.UUID, "seen_at": T.TIMESTAMP, "payload": T.BLOB, "ids": T.LIST_UUID, "names": T.LIST_TEXT,
    "tags": T.SET_TEXT, "attrs": T.MAP_TEXT_TEXT, "counts": T.MAP_TEXT_INT,
}, partition_key=["k"])

SERIES = table("contract_series", {"p": T.TEXT, "seq": T.INT, "label": T.TEXT},
               partition_key=["p"], clustering=[("seq", Order.ASC)])

TIMELINE = table("contract_timeline", {"p": T.TEXT, "at": T.TIMESTAMP, "label": T.TEXT},
                 partition_key=["p"], clustering=[("at", Order.DESC)])

GRID = table("contract_grid", {"p": T.TEXT, "shard": T.INT, "a": T.INT, "b": T.INT, "label": T.TEXT},
             partition_key=["p", "shard"], clustering=[("a", Order.ASC), ("b", Order.DESC)])

SCANNED = table("contract_scanned", {"k": T.TEXT, "n": T.INT}, partition_key=["k"])

CONTRACT_MIGRATIONS = (
    Migration(9001, "contract tables", create=(ITEMS, SERIES, TIMELINE, GRID, SCANNED)),
)


@pytest.fixture
def storage_migrations() -> Sequence[Migration]:
    """``engine`` creates this module's tables instead of the service schema."""
    return CONTRACT_MIGRATIONS


@pytest.fixture
def key() -> str:
    """A partition key no other test uses (the scylla keyspace is shared by the session)."""
    return uuid.uuid4().hex


async def read_all(fetch: Callable[[bytes | None], Awaitable[Page]], limit: int) -> list[Page]:
    """Every page of a listing, following cursors; ``fetch(cursor)`` reads one page."""
    pages: list[Page] = []
    cursor: bytes | None = None
    while True:
        page = await fetch(cursor)
        pages.append(page)
        assert len(page.rows) <= limit
        if page.cursor is None:
            return pages
        assert len(pages) < 1000, "paging does not end"
        cursor = page.cursor


def flat(pages: list[Page]) -> list[Row]:
    return [row for page in pages for row in page.rows]


# -- CRUD -----------------------------------------------------------------------------------------


async def test_insert_and_get_round_trip_every_column_type(engine: TableStore, key: str) -> None:
    owner, first, second = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    row = {
        "k": key, "label": "héllo ✓", "n": -7, "total": 2**40 + 3, "ratio": 0.25, "flag": False,
        "owner": owner, "seen_at": datetime(2024, 2, 29, 23, 59, 58, 123456, tzinfo=UTC),
        "payload": b"\x00\xffbytes", "ids": [second, first, second], "names": ["b", "a"],
        "tags": {"x", "y"}, "attrs": {"os": "linux", "arch": "x86_64"}, "counts": {"passed": 3, "failed": 0},
    }
    assert await engine.insert(ITEMS, row) is True

    got = await engine.get(ITEMS, {"k": key})

    assert got == {**row, "seen_at": datetime(2024, 2, 29, 23, 59, 58, 123000, tzinfo=UTC)}
    assert got is not None
    assert got["flag"] is False
    assert got["ids"] == [second, first, second]  # lists keep order and duplicates
    assert isinstance(got["tags"], set)
    assert got["seen_at"].utcoffset() == timedelta(0)


async def test_get_selected_columns_and_missing_row(engine: TableStore, key: str) -> None:
    await engine.insert(ITEMS, {"k": key, "label": "x", "n": 1})

    assert await engine.get(ITEMS, {"k": key}, columns=["n", "label"]) == {"n": 1, "label": "x"}
    assert await engine.get(ITEMS, {"k": key + "-missing"}) is None


@pytest.mark.parametrize("moment", [
    datetime(2025, 6, 1, 12, 0, 0, 999999, tzinfo=UTC),
    datetime(2025, 6, 1, 14, 0, 0, 1000, tzinfo=timezone(timedelta(hours=2))),
    datetime(2025, 6, 1, 12, 0, 0, 0),  # naive datetimes are taken as UTC
    datetime(1969, 12, 31, 23, 59, 59, 500000, tzinfo=UTC),
], ids=["floor-to-ms", "offset", "naive", "before-epoch"])
async def test_timestamps_come_back_as_aware_utc_with_millisecond_precision(
        engine: TableStore, key: str, moment: datetime) -> None:
    await engine.insert(ITEMS, {"k": key, "seen_at": moment})

    got = await engine.get(ITEMS, {"k": key}, columns=["seen_at"])

    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    expected = aware.astimezone(UTC).replace(microsecond=aware.microsecond // 1000 * 1000)
    assert got == {"seen_at": expected}
    assert got["seen_at"].tzinfo is not None
    assert got["seen_at"].utcoffset() == timedelta(0)


async def test_every_ms_aligned_timestamp_survives_exactly(engine: TableStore, key: str) -> None:
    # Float arithmetic (seconds * 1000) drops a millisecond for about 1 value in 200.
    rng = random.Random(7)
    start = datetime(2020, 1, 1, tzinfo=UTC)
    moments = [start + timedelta(milliseconds=rng.randrange(10**12)) for _ in range(200)]
    await asyncio.gather(*(engine.insert(TIMELINE, {"p": key, "at": m, "label": str(i)})
                           for i, m in enumerate(moments)))

    page = await engine.select(TIMELINE, {"p": key}, limit=1000)

    assert [r["at"] for r in page.rows] == sorted(set(moments), reverse=True)


async def test_null_and_empty_collections_read_back_alike(engine: TableStore, key: str) -> None:
    await engine.insert(ITEMS, {"k": key, "ids": [], "names": None, "tags": set(), "attrs": {},
                                "counts": None})
    await engine.insert(ITEMS, {"k": key + "-bare"})

    for row_key in (key, key + "-bare"):
        got = await engine.get(ITEMS, {"k": row_key})
        assert got is not None
        assert got["ids"] == [] and got["names"] == []
        assert got["tags"] == set() and isinstance(got["tags"], set)
        assert got["attrs"] == {} and got["counts"] == {}
        assert got["label"] is None and got["n"] is None and got["flag"] is None and got["seen_at"] is None


async def test_update_sets_only_given_columns_and_can_clear_them(engine: TableStore, key: str) -> None:
    await engine.insert(ITEMS, {"k": key, "label": "a", "n": 1, "tags": {"t"}, "attrs": {"x": "1"}})

    assert await engine.update(ITEMS, {"k": key}, {"n": 2, "tags": set(), "attrs": {"y": "2"}}) is True

    got = await engine.get(ITEMS, {"k": key})
    assert got is not None
    assert (got["label"], got["n"], got["tags"], got["attrs"]) == ("a", 2, set(), {"y": "2"})

    await engine.update(ITEMS, {"k": key}, {"label": None})
    assert await engine.get(ITEMS, {"k": key}, columns=["label", "n"]) == {"label": None, "n": 2}


async def test_unconditional_update_creates_the_row_like_cql(engine: TableStore, key: str) -> None:
    assert await engine.update(ITEMS, {"k": key}, {"label": "upserted"}) is True

    assert await engine.get(ITEMS, {"k": key}, columns=["label"]) == {"label": "upserted"}


async def test_update_rejects_primary_key_columns(engine: TableStore, key: str) -> None:
    with pytest.raises(ValueError, match="primary key"):
        await engine.update(SERIES, {"p": key, "seq": 1}, {"seq": 2})


async def test_delete_a_row_then_a_whole_partition(engine: TableStore, key: str) -> None:
    for seq in range(5):
        await engine.insert(SERIES, {"p": key, "seq": seq, "label": str(seq)})
    await engine.insert(SERIES, {"p": key + "-other", "seq": 0})

    assert await engine.delete(SERIES, {"p": key, "seq": 2}) is True
    assert await engine.get(SERIES, {"p": key, "seq": 2}) is None
    assert [r["seq"] for r in (await engine.select(SERIES, {"p": key})).rows] == [0, 1, 3, 4]

    assert await engine.delete(SERIES, {"p": key}) is True
    assert (await engine.select(SERIES, {"p": key})).rows == []
    assert (await engine.select(SERIES, {"p": key + "-other"})).rows != []


async def test_insert_of_the_same_row_twice_keeps_one_row_with_the_latest_values(
        engine: TableStore, key: str) -> None:
    await engine.insert(SERIES, {"p": key, "seq": 1, "label": "first"})
    await engine.insert(SERIES, {"p": key, "seq": 1, "label": "second"})

    page = await engine.select(SERIES, {"p": key})

    assert page.rows == [{"p": key, "seq": 1, "label": "second"}]


async def test_insert_upserts_only_the_given_columns(engine: TableStore, key: str) -> None:
    await engine.insert(ITEMS, {"k": key, "label": "kept", "n": 1, "tags": {"a"}})
    await engine.insert(ITEMS, {"k": key, "n": 2})

    got = await engine.get(ITEMS, {"k": key}, columns=["label", "n", "tags"])

    assert got == {"label": "kept", "n": 2, "tags": {"a"}}


async def test_keys_must_address_a_row_or_partition(engine: TableStore, key: str) -> None:
    with pytest.raises(ValueError, match="key"):
        await engine.get(SERIES, {"p": key})
    with pytest.raises(ValueError, match="partition key"):
        await engine.select(GRID, {"p": key})
    with pytest.raises(ValueError, match="None"):
        await engine.insert(ITEMS, {"k": None, "label": "x"})
    with pytest.raises(ValueError, match="clustering"):
        await engine.select(SERIES, {"p": key}, bounds=[Bound("label", ">", "a")])


# -- clustering order and bounds ------------------------------------------------------------------


async def test_ascending_clustering_order_and_reversed_reads(engine: TableStore, key: str) -> None:
    order = list(range(12))
    random.Random(1).shuffle(order)
    for seq in order:
        await engine.insert(SERIES, {"p": key, "seq": seq, "label": f"s{seq}"})

    forward = await engine.select(SERIES, {"p": key})
    backward = await engine.select(SERIES, {"p": key}, reverse=True)

    assert [r["seq"] for r in forward.rows] == list(range(12))
    assert [r["seq"] for r in backward.rows] == list(reversed(range(12)))
    assert forward.rows[3] == {"p": key, "seq": 3, "label": "s3"}
    assert forward.cursor is None and backward.cursor is None


async def test_descending_clustering_order_and_reversed_reads(engine: TableStore, key: str) -> None:
    base = datetime(2025, 1, 1, tzinfo=UTC)
    moments = [base + timedelta(minutes=m) for m in (5, 1, 9, 3, 7)]
    for moment in moments:
        await engine.insert(TIMELINE, {"p": key, "at": moment, "label": moment.isoformat()})

    newest_first = await engine.select(TIMELINE, {"p": key})
    oldest_first = await engine.select(TIMELINE, {"p": key}, reverse=True)

    assert [r["at"] for r in newest_first.rows] == sorted(moments, reverse=True)
    assert [r["at"] for r in oldest_first.rows] == sorted(moments)


async def test_mixed_clustering_orders_with_a_composite_partition_key(engine: TableStore, key: str) -> None:
    cells = [(a, b) for a in range(3) for b in range(3)]
    random.Random(2).shuffle(cells)
    for a, b in cells:
        await engine.insert(GRID, {"p": key, "shard": 1, "a": a, "b": b, "label": f"{a}{b}"})
    await engine.insert(GRID, {"p": key, "shard": 2, "a": 0, "b": 0})

    rows = (await engine.select(GRID, {"p": key, "shard": 1})).rows
    reversed_rows = (await engine.select(GRID, {"p": key, "shard": 1}, reverse=True)).rows
    prefix = (await engine.select(GRID, {"p": key, "shard": 1, "a": 1})).rows

    expected = [(a, b) for a in range(3) for b in (2, 1, 0)]
    assert [(r["a"], r["b"]) for r in rows] == expected
    assert [(r["a"], r["b"]) for r in reversed_rows] == expected[::-1]
    assert [(r["a"], r["b"]) for r in prefix] == [(1, 2), (1, 1), (1, 0)]


@pytest.mark.parametrize(("op", "expected"), [
    ("<", [0, 1, 2, 3, 4]), ("<=", [0, 1, 2, 3, 4, 5]), (">", [6, 7, 8, 9]), (">=", [5, 6, 7, 8, 9]),
])
async def test_bounds_on_a_clustering_column(engine: TableStore, key: str, op: Comparison,
                                             expected: list[int]) -> None:
    for seq in range(10):
        await engine.insert(SERIES, {"p": key, "seq": seq})

    forward = await engine.select(SERIES, {"p": key}, bounds=[Bound("seq", op, 5)])
    backward = await engine.select(SERIES, {"p": key}, bounds=[Bound("seq", op, 5)], reverse=True)

    assert [r["seq"] for r in forward.rows] == expected
    assert [r["seq"] for r in backward.rows] == expected[::-1]


async def test_two_sided_bounds_on_a_descending_timestamp(engine: TableStore, key: str) -> None:
    base = datetime(2025, 3, 1, tzinfo=UTC)
    for hour in range(10):
        await engine.insert(TIMELINE, {"p": key, "at": base + timedelta(hours=hour)})

    page = await engine.select(TIMELINE, {"p": key}, bounds=[
        Bound("at", ">=", base + timedelta(hours=3)), Bound("at", "<", base + timedelta(hours=7))])

    assert [r["at"] for r in page.rows] == [base + timedelta(hours=h) for h in (6, 5, 4, 3)]


async def test_bounds_within_a_clustering_prefix(engine: TableStore, key: str) -> None:
    for a in range(2):
        for b in range(6):
            await engine.insert(GRID, {"p": key, "shard": 0, "a": a, "b": b})

    page = await engine.select(GRID, {"p": key, "shard": 0, "a": 1}, bounds=[Bound("b", "<=", 3)])

    assert [(r["a"], r["b"]) for r in page.rows] == [(1, 3), (1, 2), (1, 1), (1, 0)]


# -- paging ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("reverse", [False, True], ids=["forward", "reversed"])
async def test_paging_through_a_partition_with_a_cursor(engine: TableStore, key: str, reverse: bool) -> None:
    await asyncio.gather(*(engine.insert(SERIES, {"p": key, "seq": seq, "label": str(seq)})
                           for seq in range(57)))

    pages = await read_all(lambda cursor: engine.select(SERIES, {"p": key}, reverse=reverse, limit=10,
                                                                cursor=cursor), limit=10)

    assert [len(p.rows) for p in pages] == [10, 10, 10, 10, 10, 7]
    assert len(pages) == math.ceil(57 / 10)
    assert pages[-1].cursor is None
    seqs = [r["seq"] for r in flat(pages)]
    assert seqs == (list(reversed(range(57))) if reverse else list(range(57)))  # no gaps, no duplicates


async def test_paging_with_bounds_and_mixed_clustering_orders(engine: TableStore, key: str) -> None:
    await asyncio.gather(*(engine.insert(GRID, {"p": key, "shard": 3, "a": a, "b": b})
                           for a in range(5) for b in range(7)))

    pages = await read_all(lambda cursor: engine.select(
        GRID, {"p": key, "shard": 3}, bounds=[Bound("a", ">=", 1)], limit=5, cursor=cursor), limit=5)

    expected = [(a, b) for a in range(1, 5) for b in reversed(range(7))]
    assert [(r["a"], r["b"]) for r in flat(pages)] == expected
    assert len(pages) == math.ceil(len(expected) / 5)


async def test_paging_that_ends_on_a_page_boundary_loses_nothing(engine: TableStore, key: str) -> None:
    await asyncio.gather(*(engine.insert(SERIES, {"p": key, "seq": seq}) for seq in range(20)))

    pages = await read_all(lambda cursor: engine.select(SERIES, {"p": key}, limit=10, cursor=cursor),
                           limit=10)

    assert [r["seq"] for r in flat(pages)] == list(range(20))
    # SQLite knows it reached the end; Cassandra may hand out one more cursor whose page is empty.
    assert [len(p.rows) for p in pages] in ([10, 10], [10, 10, 0])


async def test_scan_pages_over_the_whole_table(engine: TableStore, key: str) -> None:
    mine = {f"{key}-{i:02d}" for i in range(23)}
    await asyncio.gather(*(engine.insert(SCANNED, {"k": k, "n": i}) for i, k in enumerate(sorted(mine))))

    pages = await read_all(lambda cursor: engine.scan(SCANNED, limit=5, cursor=cursor), limit=5)

    seen = [r["k"] for r in flat(pages)]
    assert len(seen) == len(set(seen)), "a row was returned twice"
    assert mine <= set(seen), "a row was skipped"
    assert len(pages) == math.ceil(len(seen) / 5)
    assert pages[-1].cursor is None
    columns_only = await engine.scan(SCANNED, limit=1, columns=["n"])
    assert list(columns_only.rows[0]) == ["n"]


async def test_an_invalid_cursor_is_refused_and_the_store_keeps_working(engine: TableStore, key: str) -> None:
    for seq in range(5):
        await engine.insert(SERIES, {"p": key, "seq": seq})
        await engine.insert(TIMELINE, {"p": key, "at": datetime(2025, 1, 1, seq, tzinfo=UTC)})
    series_cursor = (await engine.select(SERIES, {"p": key}, limit=2)).cursor
    timeline_cursor = (await engine.select(TIMELINE, {"p": key}, limit=2)).cursor
    assert series_cursor is not None and timeline_cursor is not None

    for garbage in (b"garbage", b"", b"\x00" * 16, series_cursor[:-3], series_cursor + b"x"):
        with pytest.raises(InvalidCursor):
            await engine.select(SERIES, {"p": key}, limit=2, cursor=garbage)
        with pytest.raises(InvalidCursor):
            await engine.scan(SCANNED, limit=2, cursor=garbage)
    with pytest.raises(InvalidCursor):  # a cursor of another table's listing
        await engine.select(SERIES, {"p": key}, limit=2, cursor=timeline_cursor)

    # A bad cursor must not cost the connection: the same store still answers at once.
    await engine.ping()
    rest = await engine.select(SERIES, {"p": key}, limit=10, cursor=series_cursor)
    assert [r["seq"] for r in rest.rows] == [2, 3, 4]


# -- conditional writes ---------------------------------------------------------------------------


async def test_insert_if_not_exists_applies_once_and_keeps_the_original(engine: TableStore, key: str) -> None:
    assert await engine.insert(ITEMS, {"k": key, "label": "original"}, if_not_exists=True) is True
    assert await engine.insert(ITEMS, {"k": key, "label": "intruder", "n": 5}, if_not_exists=True) is False

    assert await engine.get(ITEMS, {"k": key}, columns=["label", "n"]) == {"label": "original", "n": None}


async def test_update_if_exists(engine: TableStore, key: str) -> None:
    assert await engine.update(ITEMS, {"k": key}, {"label": "ghost"}, if_exists=True) is False
    assert await engine.get(ITEMS, {"k": key}) is None

    await engine.insert(ITEMS, {"k": key, "label": "real"})
    assert await engine.update(ITEMS, {"k": key}, {"label": "changed"}, if_exists=True) is True
    assert await engine.get(ITEMS, {"k": key}, columns=["label"]) == {"label": "changed"}


async def test_update_if_equal(engine: TableStore, key: str) -> None:
    await engine.insert(ITEMS, {"k": key, "label": "draft", "n": 1})

    assert await engine.update(ITEMS, {"k": key}, {"label": "final"}, if_equal={"label": "other"}) is False
    assert await engine.get(ITEMS, {"k": key}, columns=["label"]) == {"label": "draft"}

    assert await engine.update(ITEMS, {"k": key}, {"label": "final", "n": 2},
                               if_equal={"label": "draft", "n": 1}) is True
    assert await engine.get(ITEMS, {"k": key}, columns=["label", "n"]) == {"label": "final", "n": 2}

    # A null column compares equal to None.
    assert await engine.update(ITEMS, {"k": key}, {"ratio": 1.5}, if_equal={"ratio": None}) is True
    assert await engine.get(ITEMS, {"k": key}, columns=["ratio"]) == {"ratio": 1.5}

    # (Not portable: on a missing row Cassandra takes ``IF label = null`` as true and creates it.)
    missing = {"k": key + "-missing"}
    assert await engine.update(ITEMS, missing, {"label": "x"}, if_equal={"label": "x"}) is False
    assert await engine.get(ITEMS, missing) is None


async def test_delete_if_equal(engine: TableStore, key: str) -> None:
    await engine.insert(ITEMS, {"k": key, "label": "locked", "owner": uuid.UUID(int=1)})

    assert await engine.delete(ITEMS, {"k": key}, if_equal={"owner": uuid.UUID(int=2)}) is False
    assert await engine.get(ITEMS, {"k": key}, columns=["label"]) == {"label": "locked"}

    assert await engine.delete(ITEMS, {"k": key}, if_equal={"owner": uuid.UUID(int=1)}) is True
    assert await engine.get(ITEMS, {"k": key}) is None
    assert await engine.delete(ITEMS, {"k": key}, if_equal={"owner": uuid.UUID(int=1)}) is False


async def test_rows_written_with_a_ttl_disappear(engine: TableStore, key: str) -> None:
    keys = [f"{key}-{suffix}" for suffix in "abc"]
    for k in keys:
        await engine.insert(ITEMS, {"k": k, "label": "short-lived", "n": 5}, ttl=1)
    await engine.insert(SERIES, {"p": key, "seq": 1}, ttl=1)
    await engine.insert(SERIES, {"p": key, "seq": 2})
    await engine.insert(SERIES, {"p": key, "seq": 3}, ttl=300)
    await engine.insert(SCANNED, {"k": key, "n": 1}, ttl=1)
    # No check that the ttl=1 rows are there now: Cassandra counts TTLs in whole seconds, so such a
    # row may expire a few milliseconds after it is written. The ttl=300 row proves TTL writes land.

    await asyncio.sleep(2.1)

    assert await engine.get(ITEMS, {"k": keys[0]}) is None
    assert [r["seq"] for r in (await engine.select(SERIES, {"p": key})).rows] == [2, 3]
    assert key not in [r["k"] for r in (await engine.scan(SCANNED, limit=10_000)).rows]
    # An expired row does not exist for conditional writes...
    assert await engine.update(ITEMS, {"k": keys[0]}, {"label": "x"}, if_exists=True) is False
    was = {"label": "short-lived"}
    assert await engine.update(ITEMS, {"k": keys[0]}, {"label": "x"}, if_equal=was) is False
    assert await engine.delete(ITEMS, {"k": keys[0]}, if_equal=was) is False
    # ...and a new write does not bring back the columns it held.
    assert await engine.insert(ITEMS, {"k": keys[0], "label": "reborn"}, if_not_exists=True) is True
    await engine.insert(ITEMS, {"k": keys[1], "label": "rewritten"})
    await engine.update(ITEMS, {"k": keys[2]}, {"label": "updated"})
    for k, label in zip(keys, ("reborn", "rewritten", "updated"), strict=True):
        assert await engine.get(ITEMS, {"k": k}, columns=["label", "n"]) == {"label": label, "n": None}


async def test_two_stores_racing_insert_if_not_exists_let_exactly_one_win(
        engine: TableStore, twin_store: TableStore, key: str) -> None:
    keys = [f"{key}-{i}" for i in range(5)]
    attempts = [(k, i) for k in keys for i in range(20)]
    random.Random(3).shuffle(attempts)

    results = await asyncio.gather(*(
        (engine if i % 2 else twin_store).insert(ITEMS, {"k": k, "n": i}, if_not_exists=True)
        for k, i in attempts))

    for k in keys:
        winners = [i for (kk, i), won in zip(attempts, results, strict=True) if kk == k and won]
        assert len(winners) == 1, f"{k}: {len(winners)} writers won"
        assert await engine.get(ITEMS, {"k": k}, columns=["n"]) == {"n": winners[0]}
        assert await twin_store.get(ITEMS, {"k": k}, columns=["n"]) == {"n": winners[0]}


# -- migrations -----------------------------------------------------------------------------------

MIGRATED = table("migrated_items", {"k": T.TEXT, "v": T.TEXT}, partition_key=["k"])
MIGRATED_V2 = table("migrated_items", {"k": T.TEXT, "v": T.TEXT, "extra": T.INT}, partition_key=["k"])
OTHER = table("migrated_other", {"k": T.TEXT}, partition_key=["k"])
STEPS = (
    Migration(1, "items", create=(MIGRATED,)),
    Migration(2, "items.extra", add_columns=(AddColumn("migrated_items", Column("extra", T.INT)),)),
)
LATER = Migration(3, "other", create=(OTHER,))


async def test_migrations_are_applied_once(blank_database) -> None:
    store = await blank_database.open()
    assert await store.applied_migrations() == []

    assert await store.migrate(STEPS) == [1, 2]
    assert await store.migrate(STEPS) == []
    assert await store.migrate([*STEPS, LATER]) == [3]
    assert await store.migrate([*STEPS, LATER]) == []

    assert await store.applied_migrations() == [1, 2, 3]
    await store.insert(MIGRATED_V2, {"k": "a", "v": "x", "extra": 7})
    await store.insert(OTHER, {"k": "a"})
    assert await store.get(MIGRATED_V2, {"k": "a"}) == {"k": "a", "v": "x", "extra": 7}


async def test_concurrent_migrators_apply_each_version_exactly_once(blank_database) -> None:
    first, second = await asyncio.gather(blank_database.open(), blank_database.open())

    applied_first, applied_second = await asyncio.gather(first.migrate(STEPS), second.migrate(STEPS))

    assert set(applied_first).isdisjoint(applied_second)
    assert sorted(applied_first + applied_second) == [1, 2]
    assert await first.applied_migrations() == [1, 2]
    assert await second.applied_migrations() == [1, 2]
    assert await first.migrate(STEPS) == [] and await second.migrate(STEPS) == []
    await first.insert(MIGRATED_V2, {"k": "b", "extra": 1})
    assert await second.get(MIGRATED_V2, {"k": "b"}, columns=["extra"]) == {"extra": 1}
