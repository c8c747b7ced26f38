"""Results tables against the dict-backed fakes: metadata merge, best results, cell judgement, reads."""

from __future__ import annotations

import copy
import math
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pytest

from domain.errors import AlreadyExists, InvalidInput
from domain.results.entities import (
    Cell,
    CellStatus,
    ColumnMeta,
    ResultSubmission,
    ResultTableMeta,
    ResultType,
    RuleEntry,
    ValidationRule,
)
from domain.results.service import MAX_CELLS, MAX_COLUMNS, MAX_MERGE_ATTEMPTS, ResultsService, table_status
from tests.unit.fakes import FakeClock, FakeIgnoredRuns, FakeResultsRepository

TEST = uuid.UUID("00000000-0000-0000-0000-00000000000a")
SUT = 1_767_225_600.25  # 2026-01-01T00:00:00.25Z

PASS, WARNING, ERROR, UNSET = CellStatus.PASS, CellStatus.WARNING, CellStatus.ERROR, CellStatus.UNSET

THROUGHPUT = ColumnMeta(name="throughput", unit="op/s", type=ResultType.FLOAT, higher_is_better=True)
LATENCY = ColumnMeta(name="latency", unit="ms", type=ResultType.FLOAT, higher_is_better=False)
COUNT = ColumnMeta(name="count", unit="", type=ResultType.INTEGER)  # higher_is_better None: never judged
NOTE = ColumnMeta(name="note", unit="", type=ResultType.TEXT, higher_is_better=True)
HIDDEN = ColumnMeta(name="hidden", unit="s", type=ResultType.DURATION, higher_is_better=True, visible=False)
COLUMNS = [THROUGHPUT, LATENCY, COUNT, NOTE, HIDDEN]


def cell(column: str, row: str, value: float | str, status: CellStatus = UNSET) -> Cell:
    if isinstance(value, str):
        return Cell(column=column, row=row, value_text=value, status=status)
    return Cell(column=column, row=row, value=value, status=status)


def submission(cells: list[Cell], *, name: str = "perf", rules: dict[str, ValidationRule] | None = None,
               columns: list[ColumnMeta] | None = None, rows: list[str] | None = None, **fields: Any
               ) -> ResultSubmission:
    cells_rows = list(dict.fromkeys(c.row for c in cells))
    values: dict[str, Any] = {"description": "Performance", "sut_package_name": "scylla-server",
                              "sut_timestamp": SUT, **fields}
    return ResultSubmission(name=name, columns_meta=COLUMNS if columns is None else columns,
                            rows_meta=cells_rows if rows is None else rows, validation_rules=rules or {},
                            cells=cells, **values)


class World:
    """The service with its fakes, and shortcuts the tests share."""

    def __init__(self) -> None:
        self.repository = FakeResultsRepository()
        self.ignored_runs = FakeIgnoredRuns()
        self.clock = FakeClock()
        self.service = ResultsService(self.repository, self.ignored_runs, self.clock)

    async def submit(self, *cells: Cell, run: uuid.UUID | None = None, **options: Any) -> tuple[uuid.UUID, Any]:
        run_id = run or uuid.uuid4()
        outcome = await self.service.submit(test_id=TEST, run_id=run_id, submission=submission(list(cells), **options))
        self.clock.advance(minutes=1)
        return run_id, outcome

    def meta(self, name: str = "perf") -> ResultTableMeta:
        return self.repository.tables[TEST, name]

    def stored(self, run_id: uuid.UUID, name: str = "perf") -> dict[tuple[str, str], CellStatus]:
        return {(c.column, c.row): c.status for (run, _, _), c in self.repository.cells[TEST, name].items()
                if run == run_id}

    def bests(self, name: str = "perf") -> list[tuple[str, float]]:
        return [(b.key, b.value) for b in self.repository.bests.get((TEST, name), [])]


@pytest.fixture
def world() -> World:
    return World()


# -- metadata -------------------------------------------------------------------------------------


async def test_a_new_table_stores_its_metadata_with_one_rule_entry_per_column(world: World) -> None:
    now = world.clock.now()
    await world.submit(cell("throughput", "write", 10), cell("note", "write", "ok"),
                       rules={"throughput": ValidationRule(best_pct=5)}, rows=["read", "write"])
    meta = world.meta()
    assert meta.columns_meta == COLUMNS
    assert meta.rows_meta == ["read", "write"]
    assert meta.description == "Performance"
    assert meta.sut_package_name == "scylla-server"
    assert meta.validation_rules == {"throughput": [RuleEntry(valid_from=now, best_pct=5)]}
    assert meta.revision == 0


async def test_merge_replaces_columns_appends_rows_and_overwrites_texts(world: World) -> None:
    await world.submit(cell("throughput", "b", 1), cell("throughput", "a", 1))
    await world.submit(cell("throughput", "c", 1), cell("throughput", "a", 1), columns=[THROUGHPUT],
                       rows=["c", "a"], description="New", sut_package_name="other")
    meta = world.meta()
    assert meta.columns_meta == [THROUGHPUT]
    assert meta.rows_meta == ["b", "a", "c"]  # never removed, new ones appended in first-appearance order
    assert (meta.description, meta.sut_package_name) == ("New", "other")
    assert meta.revision == 1


async def test_rows_of_cells_missing_from_rows_meta_are_added(world: World) -> None:
    await world.submit(cell("throughput", "x", 1), cell("throughput", "y", 1), rows=["y"])
    assert world.meta().rows_meta == ["y", "x"]


async def test_rule_history_appends_changes_and_a_null_rule_for_a_dropped_column(world: World) -> None:
    first = world.clock.now()
    rules = {"throughput": ValidationRule(best_pct=5), "latency": ValidationRule(fixed_limit=10)}
    await world.submit(cell("throughput", "r", 1), rules=rules)
    await world.submit(cell("throughput", "r", 1), rules=rules)  # unchanged: nothing appended
    second = world.clock.now()
    await world.submit(cell("throughput", "r", 1), rules={"throughput": ValidationRule(best_pct=7)})
    await world.submit(cell("throughput", "r", 1), rules={"throughput": ValidationRule(best_pct=7)})
    third = world.clock.now()
    await world.submit(cell("throughput", "r", 1), rules={"throughput": ValidationRule(best_pct=7),
                                                          "latency": ValidationRule(fixed_limit=12)})
    assert world.meta().validation_rules == {
        "throughput": [RuleEntry(valid_from=first, best_pct=5), RuleEntry(valid_from=second, best_pct=7)],
        "latency": [RuleEntry(valid_from=first, fixed_limit=10), RuleEntry(valid_from=second),
                    RuleEntry(valid_from=third, fixed_limit=12)],
    }


async def test_an_unchanged_table_is_not_rewritten(world: World) -> None:
    rules = {"throughput": ValidationRule(best_abs=1)}
    await world.submit(cell("throughput", "r", 1), rules=rules)
    await world.submit(cell("throughput", "r", 2), rules=rules)
    assert world.repository.table_writes == 1
    assert world.meta().revision == 0


async def test_a_merge_lost_to_a_concurrent_one_is_redone_on_the_fresh_row(world: World) -> None:
    await world.submit(cell("throughput", "a", 1))
    replace = world.repository.replace_table

    async def concurrent_writer_first(meta: ResultTableMeta, *, expected_revision: int) -> bool:
        world.repository.replace_table = replace  # type: ignore[method-assign]
        stored = world.meta()
        await replace(msgspec.structs.replace(stored, rows_meta=[*stored.rows_meta, "theirs"],
                                              revision=stored.revision + 1), expected_revision=stored.revision)
        return await replace(meta, expected_revision=expected_revision)

    world.repository.replace_table = concurrent_writer_first  # type: ignore[method-assign]
    await world.submit(cell("throughput", "mine", 1))
    assert world.meta().rows_meta == ["a", "theirs", "mine"]
    assert world.meta().revision == 2


async def test_a_table_that_keeps_changing_under_the_merge_gives_up(world: World) -> None:
    await world.submit(cell("throughput", "a", 1))
    attempts = 0

    async def always_lost(meta: ResultTableMeta, *, expected_revision: int) -> bool:
        nonlocal attempts
        attempts += 1
        return False

    world.repository.replace_table = always_lost  # type: ignore[method-assign]
    with pytest.raises(AlreadyExists):
        await world.submit(cell("throughput", "b", 1))
    assert attempts == MAX_MERGE_ATTEMPTS


# -- best results ---------------------------------------------------------------------------------


async def test_best_results_follow_the_column_direction_strictly(world: World) -> None:
    for throughput, latency in ((100, 5.0), (100, 5.0), (90, 6.0), (120, 4.0), (120, 4.0)):
        await world.submit(cell("throughput", "r", throughput), cell("latency", "r", latency))
    assert world.bests() == [("throughput:r", 100), ("latency:r", 5.0), ("throughput:r", 120), ("latency:r", 4.0)]
    fourth_submission = FakeClock().now() + timedelta(minutes=3)
    assert world.repository.bests[TEST, "perf"][-1].result_date == fourth_submission


async def test_columns_without_direction_and_text_columns_have_no_best(world: World) -> None:
    await world.submit(cell("count", "r", 3), cell("note", "r", "fine"), cell("hidden", "r", 2))
    assert world.bests() == [("hidden:r", 2)]


async def test_bests_of_ignored_runs_do_not_count(world: World) -> None:
    await world.submit(cell("throughput", "r", 100))
    ignored, _ = await world.submit(cell("throughput", "r", 200))
    world.ignored_runs.ignored_ids.add(ignored)
    _, outcome = await world.submit(cell("throughput", "r", 150))
    assert outcome.new_best_results == 1
    assert world.bests() == [("throughput:r", 100), ("throughput:r", 200), ("throughput:r", 150)]


async def test_when_every_best_is_ignored_the_next_value_is_the_best(world: World) -> None:
    ignored, _ = await world.submit(cell("latency", "r", 1))
    world.ignored_runs.ignored_ids.add(ignored)
    await world.submit(cell("latency", "r", 9))
    assert world.bests() == [("latency:r", 1), ("latency:r", 9)]


# -- cell status ----------------------------------------------------------------------------------


async def judged(world: World, column: str, value: float, rule: ValidationRule | None,
                 status: CellStatus = UNSET, best: float | None = None) -> CellStatus:
    """The stored status of one cell, after an earlier run set the best to ``best``."""
    rules = {column: rule} if rule else {}
    if best is not None:
        await world.submit(cell(column, "r", best, PASS), rules=rules)
    run, _ = await world.submit(cell(column, "r", value, status), rules=rules)
    return world.stored(run)[column, "r"]


@pytest.mark.parametrize(("column", "value", "expected"), [
    ("throughput", 101, PASS), ("throughput", 100, ERROR), ("throughput", 99, ERROR),
    ("latency", 99, PASS), ("latency", 100, ERROR), ("latency", 101, ERROR),
])
async def test_fixed_limit(world: World, column: str, value: float, expected: CellStatus) -> None:
    assert await judged(world, column, value, ValidationRule(fixed_limit=100)) is expected


@pytest.mark.parametrize(("column", "value", "expected"), [
    ("throughput", 51, PASS), ("throughput", 50, ERROR), ("throughput", 40, ERROR),
    ("latency", 149, PASS), ("latency", 150, ERROR), ("latency", 160, ERROR),
])
async def test_best_pct(world: World, column: str, value: float, expected: CellStatus) -> None:
    assert await judged(world, column, value, ValidationRule(best_pct=50), best=100) is expected


@pytest.mark.parametrize(("column", "value", "expected"), [
    ("throughput", 96, PASS), ("throughput", 95, ERROR),
    ("latency", 104, PASS), ("latency", 105, ERROR),
])
async def test_best_abs(world: World, column: str, value: float, expected: CellStatus) -> None:
    assert await judged(world, column, value, ValidationRule(best_abs=5), best=100) is expected


@pytest.mark.parametrize(("value", "expected"), [(98, PASS), (97, ERROR), (96, ERROR), (92, ERROR), (89, ERROR)])
async def test_every_limit_must_be_beaten(world: World, value: float, expected: CellStatus) -> None:
    rule = ValidationRule(fixed_limit=90, best_pct=5, best_abs=3)  # limits 90, 95 and 97 with a best of 100
    assert await judged(world, "throughput", value, rule, best=100) is expected


async def test_the_cell_itself_can_be_the_best_it_is_judged_against(world: World) -> None:
    assert await judged(world, "throughput", 100, ValidationRule(best_pct=10)) is PASS  # limit 90
    assert await judged(World(), "throughput", 100, ValidationRule(best_abs=0)) is ERROR  # limit 100, not beaten


async def test_no_limit_at_all_passes(world: World) -> None:
    assert await judged(world, "throughput", 1, ValidationRule()) is PASS


async def test_a_dropped_rule_still_judges_with_no_limits(world: World) -> None:
    await world.submit(cell("throughput", "r", 100), rules={"throughput": ValidationRule(fixed_limit=1000)})
    run, _ = await world.submit(cell("throughput", "r", 1))
    assert world.stored(run)["throughput", "r"] is PASS


@pytest.mark.parametrize(("column", "rule"), [("throughput", None), ("count", ValidationRule(fixed_limit=1000))])
async def test_cells_without_rule_or_direction_stay_unset(world: World, column: str,
                                                          rule: ValidationRule | None) -> None:
    assert await judged(world, column, 5, rule) is UNSET


@pytest.mark.parametrize("sent", [PASS, WARNING, ERROR])
async def test_a_sent_status_is_kept(world: World, sent: CellStatus) -> None:
    assert await judged(world, "throughput", 1, ValidationRule(fixed_limit=1000), status=sent) is sent


async def test_outcome_reports_sent_and_computed_errors_after_storing_everything(world: World) -> None:
    run, outcome = await world.submit(cell("throughput", "a", 1), cell("throughput", "b", 5000),
                                      cell("latency", "a", 1, ERROR), cell("count", "a", 1),
                                      rules={"throughput": ValidationRule(fixed_limit=1000)})
    assert outcome.has_errors
    assert sorted(outcome.error_cells) == ["latency:a", "throughput:a"]
    assert (outcome.name, outcome.stored_cells) == ("perf", 4)
    assert world.stored(run) == {("throughput", "a"): ERROR, ("throughput", "b"): PASS, ("latency", "a"): ERROR,
                                 ("count", "a"): UNSET}


async def test_a_clean_outcome_has_no_errors(world: World) -> None:
    _, outcome = await world.submit(cell("throughput", "a", 1), cell("latency", "a", 1, WARNING))
    assert not outcome.has_errors and outcome.error_cells == ()


# -- validation -----------------------------------------------------------------------------------


def text_rule() -> ResultSubmission:
    return submission([], rules={"note": ValidationRule(fixed_limit=1)})


BAD_SUBMISSIONS = {
    "unknown cell column": lambda: submission([cell("nope", "r", 1)]),
    "text in a numeric column": lambda: submission([cell("throughput", "r", "fast")]),
    "number in a text column": lambda: submission([cell("note", "r", 1)]),
    "both value kinds": lambda: submission([Cell(column="throughput", row="r", value=1, value_text="1")]),
    "no value": lambda: submission([Cell(column="throughput", row="r")]),
    "not finite value": lambda: submission([cell("throughput", "r", math.inf)]),
    "rule on unknown column": lambda: submission([], rules={"nope": ValidationRule(best_pct=1)}),
    "rule on a text column": text_rule,
    "not finite rule": lambda: submission([], rules={"latency": ValidationRule(best_abs=math.nan)}),
    "duplicate column": lambda: submission([], columns=[THROUGHPUT, THROUGHPUT]),
    "empty column name": lambda: submission([], columns=[ColumnMeta(name="", type=ResultType.FLOAT)]),
    "empty row in cell": lambda: submission([cell("throughput", " ", 1)]),
    "empty row in rows_meta": lambda: submission([], rows=[""]),
    "empty table name": lambda: submission([], name="  "),
    "long table name": lambda: submission([], name="t" * 201),
    "long text value": lambda: submission([cell("note", "r", "x" * 10_001)]),
    "too many columns": lambda: submission([], columns=[ColumnMeta(name=f"c{i}", type=ResultType.FLOAT)
                                                        for i in range(MAX_COLUMNS + 1)]),
    "too many cells": lambda: submission([cell("throughput", "r", 1)] * (MAX_CELLS + 1), rows=["r"]),
    "zero sut_timestamp": lambda: submission([], sut_timestamp=0),
    "negative sut_timestamp": lambda: submission([], sut_timestamp=-1.0),
    "nan sut_timestamp": lambda: submission([], sut_timestamp=math.nan),
    "sut_timestamp past year 9999": lambda: submission([], sut_timestamp=1e12),
}


@pytest.mark.parametrize("case", BAD_SUBMISSIONS)
async def test_invalid_submissions_store_nothing(world: World, case: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        await world.service.submit(test_id=TEST, run_id=uuid.uuid4(), submission=BAD_SUBMISSIONS[case]())
    assert raised.value.message
    assert (world.repository.tables, world.repository.cells, world.repository.bests) == ({}, {}, {})


async def test_a_bad_cell_in_an_existing_table_changes_nothing(world: World) -> None:
    run, _ = await world.submit(cell("throughput", "r", 1))
    before = snapshot(world)
    with pytest.raises(InvalidInput, match="'nope' is not in columns_meta"):
        await world.submit(cell("throughput", "new-row", 2), cell("nope", "r", 1), run=run)
    assert snapshot(world) == before


def snapshot(world: World) -> Any:
    repository = world.repository
    return copy.deepcopy([repository.tables, repository.bests, repository.cells, repository.run_tables,
                          repository.latest_sut, repository.table_writes])


# -- idempotency ----------------------------------------------------------------------------------


async def test_resubmitting_the_same_table_changes_nothing(world: World) -> None:
    cells = (cell("throughput", "r", 100), cell("latency", "r", 3), cell("note", "r", "ok"))
    rules = {"throughput": ValidationRule(best_pct=5)}
    run, first = await world.submit(*cells, rules=rules)
    state = snapshot(world)
    _, again = await world.submit(*cells, rules=rules, run=run)
    assert snapshot(world) == state
    assert again.new_best_results == 0
    assert (again.stored_cells, again.error_cells) == (first.stored_cells, first.error_cells)


async def test_a_cell_sent_twice_keeps_the_last_value(world: World) -> None:
    _, outcome = await world.submit(cell("throughput", "r", 1), cell("throughput", "r", 2))
    assert outcome.stored_cells == 1
    assert [c.value for c in world.repository.cells[TEST, "perf"].values()] == [2]
    assert world.bests() == [("throughput:r", 2)]


# -- reading: run page ----------------------------------------------------------------------------


async def test_tables_for_run_in_submission_order_with_visible_present_columns(world: World) -> None:
    run = uuid.uuid4()
    await world.submit(cell("throughput", "w", 10), cell("note", "w", "ok"), cell("hidden", "w", 3),
                       cell("throughput", "r", 1, WARNING), name="zeta", run=run, rows=["w", "r"])
    await world.submit(cell("latency", "x", 2), name="alpha", run=run)
    await world.submit(cell("latency", "x", 99), name="alpha")  # another run: not shown
    await world.submit(cell("latency", "y", 1), name="alpha", run=run)  # a later row of the same table
    zeta, alpha = await world.service.tables_for_run(TEST, run)
    assert zeta.name == "zeta" and alpha.name == "alpha"
    assert zeta.description == "Performance"
    assert [c.name for c in zeta.columns] == ["throughput", "note"]  # hidden and absent columns left out
    assert zeta.rows == ["w", "r"]
    assert zeta.table_data["w"]["note"].value == "ok"
    assert zeta.table_data["w"]["note"].type is ResultType.TEXT
    assert zeta.table_data["r"]["throughput"].status is WARNING
    assert zeta.table_data["w"]["hidden"].value == 3
    assert zeta.table_status is WARNING
    assert alpha.rows == ["x", "y"]
    assert {row: cells["latency"].value for row, cells in alpha.table_data.items()} == {"x": 2, "y": 1}
    assert await world.service.tables_for_run(TEST, uuid.uuid4()) == []


@pytest.mark.parametrize(("statuses", "expected"), [
    ([PASS, WARNING, ERROR, UNSET], ERROR), ([PASS, WARNING, UNSET], WARNING), ([UNSET, PASS], PASS),
    ([UNSET, UNSET], UNSET), ([], UNSET),
])
def test_table_status_is_the_worst_cell(statuses: list[CellStatus], expected: CellStatus) -> None:
    assert table_status(statuses) is expected


# -- reading: history -----------------------------------------------------------------------------


def at(days: int) -> float:
    return SUT + days * 86_400


async def test_history_gives_numeric_series_in_sut_order_without_ignored_runs(world: World) -> None:
    rules = {"throughput": ValidationRule(best_pct=10)}
    late, _ = await world.submit(cell("throughput", "r", 200), cell("note", "r", "x"), sut_timestamp=at(2),
                                 rules=rules)
    early, _ = await world.submit(cell("throughput", "r", 100), sut_timestamp=at(0), rules=rules)
    ignored, _ = await world.submit(cell("throughput", "r", 500), sut_timestamp=at(1), rules=rules)
    world.ignored_runs.ignored_ids.add(ignored)
    [history] = await world.service.history(TEST)
    assert history.name == "perf" and history.columns == COLUMNS and history.rows == ["r"]
    assert list(history.series) == ["throughput"]  # TEXT cells are not plotted
    points = history.series["throughput"]
    assert [(p.run_id, p.value, p.sut_timestamp) for p in points] == [
        (early, 100, datetime.fromtimestamp(at(0), UTC)), (late, 200, datetime.fromtimestamp(at(2), UTC))]
    assert [p.status for p in points] == [ERROR, PASS]  # 100 is 50% below the best of 200
    assert [(b.key, b.value, b.run_id) for b in history.best_results] == [("throughput:r", 200, late)]
    assert list(history.validation_rules) == ["throughput"]


async def test_history_window_and_table_selection(world: World) -> None:
    for day in range(4):
        await world.submit(cell("throughput", "r", day + 1), sut_timestamp=at(day))
        await world.submit(cell("latency", "r", day + 1), sut_timestamp=at(day), name="other")
    since, until = datetime.fromtimestamp(at(1), UTC), datetime.fromtimestamp(at(2), UTC)
    [perf] = await world.service.history(TEST, table_names=["perf", "missing"], since=since, until=until)
    assert [p.value for p in perf.series["throughput"]] == [2, 3]
    assert [h.name for h in await world.service.history(TEST)] == ["other", "perf"]
    with pytest.raises(InvalidInput):
        await world.service.history(TEST, since=until, until=since)


async def test_history_of_a_test_without_tables_is_empty(world: World) -> None:
    assert await world.service.history(TEST) == []
