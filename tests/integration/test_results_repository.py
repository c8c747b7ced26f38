"""Results tables on every storage engine, through the repository and the domain service.

The scylla keyspace is shared by the session, so every test works under its own random test id.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from domain.results.entities import (
    BestResult,
    Cell,
    CellStatus,
    ColumnMeta,
    ResultSubmission,
    ResultTableMeta,
    ResultType,
    RuleEntry,
    ValidationRule,
)
from domain.results.service import ResultsService
from infrastructure.storage import results_repository, tables
from infrastructure.storage.results_repository import StoreResultsRepository
from infrastructure.storage.store import TableStore
from tests.integration.counting_store import ReadCountingStore
from tests.unit.fakes import FakeClock, FakeIgnoredRuns

SUT = 1_767_225_600.123456  # sub-millisecond digits, as SCT derives them from a revision id
COLUMNS = [ColumnMeta(name="throughput", unit="op/s", type=ResultType.FLOAT, higher_is_better=True),
           ColumnMeta(name="p99", unit="ms", type=ResultType.DURATION, higher_is_better=False, visible=False),
           ColumnMeta(name="version", type=ResultType.TEXT)]


@pytest.fixture
def test_id() -> uuid.UUID:
    return uuid.uuid4()


@pytest.fixture
def repository(engine: TableStore) -> StoreResultsRepository:
    return StoreResultsRepository(engine, concurrency=16)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def ignored_runs() -> FakeIgnoredRuns:
    return FakeIgnoredRuns()


@pytest.fixture
def results(repository: StoreResultsRepository, ignored_runs: FakeIgnoredRuns, clock: FakeClock) -> ResultsService:
    return ResultsService(repository, ignored_runs, clock)


def table(cells: list[Cell], *, name: str = "perf", sut: float = SUT,
          rules: dict[str, ValidationRule] | None = None) -> ResultSubmission:
    return ResultSubmission(name=name, description="Latency and throughput", columns_meta=COLUMNS,
                            rows_meta=list(dict.fromkeys(c.row for c in cells)), validation_rules=rules or {},
                            sut_package_name="scylla-server", sut_timestamp=sut, cells=cells)


def numbers(row: str, throughput: float, p99: float, status: CellStatus = CellStatus.UNSET) -> list[Cell]:
    return [Cell(column="throughput", row=row, value=throughput, status=status),
            Cell(column="p99", row=row, value=p99), Cell(column="version", row=row, value_text="2026.1")]


async def test_metadata_round_trip_and_revision_check(repository: StoreResultsRepository, test_id: uuid.UUID
                                                      ) -> None:
    valid_from = datetime(2026, 1, 2, 3, 4, 5, 678_000, tzinfo=UTC)
    meta = ResultTableMeta(test_id=test_id, name="perf", description="d", columns_meta=COLUMNS,
                           rows_meta=["b", "a"], sut_package_name="scylla-server",
                           validation_rules={"throughput": [RuleEntry(valid_from=valid_from, best_pct=5.5),
                                                            RuleEntry(valid_from=valid_from)]})
    assert await repository.add_table(meta)
    assert not await repository.add_table(msgspec.structs.replace(meta, description="other"))
    assert await repository.get_table(test_id, "perf") == meta

    changed = msgspec.structs.replace(meta, rows_meta=["b", "a", "c"], revision=1)
    assert not await repository.replace_table(changed, expected_revision=7)
    assert await repository.replace_table(changed, expected_revision=0)
    assert not await repository.replace_table(msgspec.structs.replace(meta, revision=1), expected_revision=0)
    assert await repository.get_table(test_id, "perf") == changed

    await repository.add_table(ResultTableMeta(test_id=test_id, name="alpha"))
    assert [m.name for m in await repository.list_tables(test_id)] == ["alpha", "perf"]
    assert await repository.get_table(test_id, "missing") is None
    assert await repository.get_table(uuid.uuid4(), "perf") is None


async def test_best_results_are_an_append_only_history(repository: StoreResultsRepository, test_id: uuid.UUID
                                                       ) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    history = [BestResult(key="throughput:r", value=v, result_date=start + timedelta(days=i), run_id=uuid.uuid4())
               for i, v in enumerate((1.5, 2.5))]
    history.append(BestResult(key="p99:r", value=0.25, result_date=start, run_id=uuid.uuid4()))
    await repository.add_best_results(test_id, "perf", history)
    assert await repository.best_results(test_id, "perf") == [history[2], history[1], history[0]]
    assert await repository.best_results(test_id, "other") == []


async def test_submit_then_read_the_run_page(results: ResultsService, clock: FakeClock, test_id: uuid.UUID) -> None:
    run = uuid.uuid4()
    outcome = await results.submit(test_id=test_id, run_id=run, submission=table(
        numbers("read", 100, 2.5) + numbers("write", 50, 4.0, CellStatus.ERROR), name="zeta"))
    assert outcome.error_cells == ("throughput:write",)
    clock.advance(seconds=1)
    await results.submit(test_id=test_id, run_id=run, submission=table(numbers("mixed", 1, 1), name="alpha"))
    await results.submit(test_id=test_id, run_id=uuid.uuid4(), submission=table(numbers("other", 1, 1), name="alpha"))

    zeta, alpha = await results.tables_for_run(test_id, run)
    assert (zeta.name, alpha.name) == ("zeta", "alpha")  # first-submission order, not name order
    assert zeta.description == "Latency and throughput"
    assert [c.name for c in zeta.columns] == ["throughput", "version"]
    assert zeta.rows == ["read", "write"]
    assert msgspec.to_builtins(zeta.table_data) == {
        "read": {"p99": {"value": 2.5, "status": "UNSET", "type": "DURATION"},
                 "throughput": {"value": 100.0, "status": "UNSET", "type": "FLOAT"},
                 "version": {"value": "2026.1", "status": "UNSET", "type": "TEXT"}},
        "write": {"p99": {"value": 4.0, "status": "UNSET", "type": "DURATION"},
                  "throughput": {"value": 50.0, "status": "ERROR", "type": "FLOAT"},
                  "version": {"value": "2026.1", "status": "UNSET", "type": "TEXT"}}}
    assert zeta.table_status is CellStatus.ERROR
    assert alpha.rows == ["mixed"]
    assert await results.tables_for_run(test_id, uuid.uuid4()) == []


async def test_resubmission_is_idempotent(results: ResultsService, engine: TableStore, clock: FakeClock,
                                          test_id: uuid.UUID) -> None:
    run = uuid.uuid4()
    submission = table(numbers("r", 100, 2.0), rules={"throughput": ValidationRule(best_pct=10)})

    async def state() -> list[object]:
        partition = {"test_id": test_id, "table_name": "perf"}
        return [(await engine.select(t, partition)).rows for t in (tables.result_cells, tables.result_best,
                                                                   tables.result_table_runs,
                                                                   tables.result_cells_by_time)] + [
            (await engine.select(tables.result_run_tables, {"test_id": test_id, "run_id": run})).rows,
            (await engine.select(tables.result_tables, {"test_id": test_id})).rows]

    first = await results.submit(test_id=test_id, run_id=run, submission=submission)
    before = await state()
    clock.advance(minutes=5)
    again = await results.submit(test_id=test_id, run_id=run, submission=submission)
    assert await state() == before
    assert (first.new_best_results, again.new_best_results) == (2, 0)
    assert len(before[0]) == 3 and len(before[3]) == 4  # the copy: the cells and the row marking it complete


async def test_a_new_sut_time_restamps_the_resubmitted_cells_and_moves_the_run(
        results: ResultsService, repository: StoreResultsRepository, test_id: uuid.UUID) -> None:
    run = uuid.uuid4()
    await results.submit(test_id=test_id, run_id=run, submission=table(numbers("a", 1, 1) + numbers("b", 1, 1)))
    await results.submit(test_id=test_id, run_id=run, submission=table(numbers("a", 2, 2), sut=SUT + 60))
    cells = await repository.history_cells(test_id, "perf", since=None, until=None, max_runs=10, max_cells=100)
    stamps = {(c.row, c.column): c.sut_timestamp.timestamp() for c in cells}
    assert len(cells) == 6  # the run is listed once, at its latest SUT time
    assert stamps["a", "throughput"] == pytest.approx(SUT + 60, abs=1e-6)
    assert stamps["b", "throughput"] == pytest.approx(SUT, abs=1e-6)  # upserted by (run, column, row) only
    later = datetime.fromtimestamp(SUT + 30, UTC)
    moved = await repository.history_cells(test_id, "perf", since=later, until=None, max_runs=10, max_cells=100)
    assert {(c.row, c.value) for c in moved if c.column == "throughput"} == {("a", 2)}


async def test_history_reads_the_newest_runs_in_the_window(results: ResultsService, ignored_runs: FakeIgnoredRuns,
                                                           repository: StoreResultsRepository, clock: FakeClock,
                                                           test_id: uuid.UUID) -> None:
    runs = [uuid.uuid4() for _ in range(5)]
    for day, run in enumerate(runs):
        await results.submit(test_id=test_id, run_id=run,
                             submission=table(numbers("r", 10 * (day + 1), 1.0), sut=SUT + day * 86_400))
        clock.advance(minutes=1)
    ignored_runs.ignored_ids.add(runs[3])

    newest = await repository.history_cells(test_id, "perf", since=None, until=None, max_runs=2, max_cells=100)
    assert [c.run_id for c in newest if c.column == "throughput"] == [runs[4], runs[3]]
    capped = await repository.history_cells(test_id, "perf", since=None, until=None, max_runs=5, max_cells=4)
    assert len(capped) == 4 and {c.run_id for c in capped} == {runs[4], runs[3]}

    since = datetime.fromtimestamp(SUT + 86_400, UTC)
    until = datetime.fromtimestamp(SUT + 3 * 86_400, UTC)
    [history] = await results.history(test_id, since=since, until=until)
    assert [(p.run_id, p.value) for p in history.series["throughput"]] == [(runs[1], 20), (runs[2], 30)]
    assert [p.sut_timestamp.timestamp() for p in history.series["p99"]] == pytest.approx(
        [SUT + 86_400, SUT + 2 * 86_400], abs=1e-6)
    assert [b.run_id for b in history.best_results if b.key == "throughput:r"] == [runs[0], runs[1], runs[2],
                                                                                   runs[4]]


async def test_history_reads_the_sut_ordered_copy_and_each_run_without_a_complete_one(
        results: ResultsService, engine: TableStore, clock: FakeClock, test_id: uuid.UUID,
        monkeypatch: pytest.MonkeyPatch) -> None:
    runs = [uuid.uuid4() for _ in range(6)]
    for day, run in enumerate(runs):
        await results.submit(test_id=test_id, run_id=run,
                             submission=table(numbers("r", 10 + day, 1.0), sut=SUT + day * 86_400))
        clock.advance(minutes=1)
    await results.submit(test_id=test_id, run_id=runs[2], submission=table(numbers("s", 7, 2.0), sut=SUT + 2 * 86_400))
    await results.submit(test_id=test_id, run_id=runs[4], submission=table(numbers("s", 8, 3.0), sut=SUT + 9 * 86_400))
    partition = {"test_id": test_id, "table_name": "perf"}
    copy = (await engine.select(tables.result_cells_by_time, partition)).rows
    assert {r["run_sut"] for r in copy if r["run_id"] == runs[4]} == {SUT + 9 * 86_400}  # moved, nothing left behind
    assert [r["run_id"] for r in copy if r["column_name"] == ""] == [runs[4], runs[5], runs[3], runs[2], runs[1],
                                                                     runs[0]]
    counter = ReadCountingStore(engine)
    repository = StoreResultsRepository(counter, concurrency=2)
    day = 86_400
    asks = [(None, None, 10, 1000), (None, None, 3, 1000), (None, None, 10, 7), (None, None, 10, 12),
            (SUT + day, SUT + 3 * day, 10, 1000), (SUT + 2.5 * day, None, 10, 1000), (None, SUT + day / 2, 10, 1000)]

    async def histories() -> list[list[tuple[object, ...]]]:
        return [[(c.run_id, c.column, c.row, c.value, c.value_text, c.status, c.sut_timestamp) for c in
                 await repository.history_cells(
                     test_id, "perf", since=since and datetime.fromtimestamp(since, UTC),
                     until=until and datetime.fromtimestamp(until, UTC), max_runs=runs_, max_cells=cells_)]
                for since, until, runs_, cells_ in asks]

    copied = await histories()
    assert counter.reads == {("select", "result_table_runs"): len(asks), ("select", "result_cells_by_time"): len(asks)}
    assert [len(h) for h in copied] == [24, 12, 7, 12, 12, 12, 3]
    assert [row[0] for row in copied[0][::3]] == [runs[4], runs[4], runs[5], runs[3], runs[2], runs[2], runs[1],
                                                 runs[0]]
    assert {(row[2], row[3]) for row in copied[0] if row[0] == runs[4] and row[1] == "throughput"} == {
        ("r", 14), ("s", 8)}
    # Paged in small pages, the copy is read only as far as the cap reaches.
    monkeypatch.setattr(results_repository, "HISTORY_PAGE", 7)
    counter.reads.clear()
    assert await histories() == copied
    # 30 rows (24 cells, 6 marks); 15 rows between the 3 newest runs; up to the cap of 7, of 12; 15; 15; 4.
    assert counter.reads["select", "result_cells_by_time"] == 5 + 3 + 2 + 3 + 3 + 3 + 1

    # Runs whose copy is not marked complete (a submission cut short) are read from their own slices.
    for run in (runs[1], runs[4]):
        sut = next(r["run_sut"] for r in copy if r["run_id"] == run)
        await engine.delete(tables.result_cells_by_time, {**partition, "run_sut": sut, "run_id": run,
                                                          "column_name": "", "row_name": ""})
    counter.reads.clear()
    assert await histories() == copied
    # Only the unmarked runs the answer reaches (slices go two at a time here, up to the cap).
    assert counter.reads["select", "result_cells"] == 2 + 1 + 1 + 1 + 1 + 1 + 0
    # Cells written before the copy existed: every run is read from its slice, with the same answer.
    await engine.delete(tables.result_cells_by_time, partition)
    assert await histories() == copied
    # A run submitting again is copied whole, its earlier cells included.
    await results.submit(test_id=test_id, run_id=runs[0], submission=table(numbers("r", 10, 1.0), sut=SUT))
    assert {(r["run_id"], r["row_name"]) for r in (await engine.select(tables.result_cells_by_time, partition)).rows
            if r["column_name"] == "throughput"} == {(runs[0], "r")}
    counter.reads.clear()
    assert await histories() == copied
    assert counter.reads["select", "result_cells"] == 5 + 3 + 2 + 4 + 3 + 3 + 0


async def test_many_cells_in_one_submission(results: ResultsService, test_id: uuid.UUID) -> None:
    run = uuid.uuid4()
    cells = [Cell(column="throughput", row=f"row-{i:04d}", value=float(i)) for i in range(600)]
    outcome = await results.submit(test_id=test_id, run_id=run, submission=table(cells))
    assert outcome.stored_cells == 600
    [page] = await results.tables_for_run(test_id, run)
    assert page.rows == [f"row-{i:04d}" for i in range(600)]
    assert page.table_data["row-0599"]["throughput"].value == 599
