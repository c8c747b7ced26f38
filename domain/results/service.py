"""Results use cases: store a submitted table (merging metadata, tracking bests, judging cells), read back.

A submission is checked completely before anything is written, and every write is an upsert or
appends only on a change, so the client's retries of the same table change nothing.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterable
from datetime import UTC, datetime
from itertools import chain
from uuid import UUID

import msgspec

from domain.clock import Clock
from domain.errors import AlreadyExists, InvalidInput
from domain.results.entities import (
    NO_RULE,
    BestResult,
    Cell,
    CellStatus,
    CellView,
    ColumnMeta,
    HistoryPoint,
    ResultSubmission,
    ResultTableMeta,
    ResultType,
    RuleEntry,
    RunResultTable,
    StoredCell,
    SubmissionOutcome,
    TableHistory,
)
from domain.results.ports import IgnoredRuns, ResultsRepository

MAX_NAME_LENGTH = 200  # table, column and row names, units, SUT package name
MAX_TEXT_LENGTH = 10_000  # description and TEXT cell values
MAX_COLUMNS = 1000  # per table
MAX_CELLS = 100_000  # per submission, and rows named in one submission
MAX_SUT_TIMESTAMP = 253_402_300_799  # 9999-12-31T23:59:59Z, the last instant a datetime holds
MAX_HISTORY_RUNS = 1000  # newest runs per table a history reads
MAX_HISTORY_CELLS = 200_000  # cells per table a history reads
MAX_MERGE_ATTEMPTS = 10  # metadata merges lost to concurrent submissions before giving up

# A table's status is its worst cell status; UNSET only when no cell was judged at all.
_STATUS_RANK = (CellStatus.ERROR, CellStatus.WARNING, CellStatus.PASS)


def _check_name(kind: str, name: str) -> None:
    if not name.strip():
        raise InvalidInput(f"{kind} name must not be empty")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidInput(f"{kind} name must be at most {MAX_NAME_LENGTH} characters: {name[:50]}…")


def _check_number(what: str, value: float | None) -> None:
    if value is not None and not math.isfinite(value):
        raise InvalidInput(f"{what} must be a finite number, got {value}")


def _validate(submission: ResultSubmission) -> dict[str, ColumnMeta]:
    """Reject what the client library itself would refuse, and what storage could not hold."""
    _check_name("Table", submission.name)
    if len(submission.description) > MAX_TEXT_LENGTH:
        raise InvalidInput(f"Table description must be at most {MAX_TEXT_LENGTH} characters")
    if len(submission.sut_package_name) > MAX_NAME_LENGTH:
        raise InvalidInput(f"sut_package_name must be at most {MAX_NAME_LENGTH} characters")
    if not (math.isfinite(submission.sut_timestamp) and 0 < submission.sut_timestamp <= MAX_SUT_TIMESTAMP):
        raise InvalidInput(f"sut_timestamp must be epoch seconds greater than 0, got {submission.sut_timestamp}")
    if len(submission.columns_meta) > MAX_COLUMNS:
        raise InvalidInput(f"A table has at most {MAX_COLUMNS} columns, got {len(submission.columns_meta)}")
    if len(submission.cells) > MAX_CELLS or len(submission.rows_meta) > MAX_CELLS:
        raise InvalidInput(f"A table submission has at most {MAX_CELLS} cells and rows")
    columns: dict[str, ColumnMeta] = {}
    for column in submission.columns_meta:
        _check_name("Column", column.name)
        if len(column.unit) > MAX_NAME_LENGTH:
            raise InvalidInput(f"Unit of column {column.name!r} must be at most {MAX_NAME_LENGTH} characters")
        if column.name in columns:
            raise InvalidInput(f"Column {column.name!r} appears twice in columns_meta")
        columns[column.name] = column
    for row in submission.rows_meta:
        _check_name("Row", row)
    for name, rule in submission.validation_rules.items():
        column_meta = columns.get(name)
        if column_meta is None:
            raise InvalidInput(f"Validation rule for column {name!r}, which is not in columns_meta")
        if column_meta.type is ResultType.TEXT:
            raise InvalidInput(f"Validation rule for TEXT column {name!r}; rules apply to numeric columns only")
        for field in ("best_pct", "best_abs", "fixed_limit"):
            _check_number(f"{field} of the rule for column {name!r}", getattr(rule, field))
    for cell in submission.cells:
        _check_cell(cell, columns)
    return columns


def _check_cell(cell: Cell, columns: dict[str, ColumnMeta]) -> None:
    where = f"Cell ({cell.column!r}, {cell.row!r})"
    _check_name("Row", cell.row)
    column = columns.get(cell.column)
    if column is None:
        raise InvalidInput(f"{where}: column {cell.column!r} is not in columns_meta")
    if column.type is ResultType.TEXT:
        if cell.value_text is None or cell.value is not None:
            raise InvalidInput(f"{where}: a TEXT column takes value_text and no value")
        if len(cell.value_text) > MAX_TEXT_LENGTH:
            raise InvalidInput(f"{where}: value_text must be at most {MAX_TEXT_LENGTH} characters")
    else:
        if cell.value is None or cell.value_text is not None:
            raise InvalidInput(f"{where}: a {column.type} column takes a numeric value and no value_text")
        _check_number(where, cell.value)


def _last_of_each(cells: Iterable[Cell]) -> list[Cell]:
    """One cell per (column, row), the last sent, as storage would keep it anyway."""
    return list({(c.column, c.row): c for c in cells}.values())


def _merged(current: ResultTableMeta | None, test_id: UUID, submission: ResultSubmission, cells: list[Cell],
            now: datetime) -> ResultTableMeta:
    """The metadata after this submission; equal to ``current`` when nothing changed."""
    rows = list(current.rows_meta) if current else []
    known = set(rows)
    for row in chain(submission.rows_meta, (c.row for c in cells)):
        if row not in known:
            known.add(row)
            rows.append(row)
    history = {column: list(entries) for column, entries in current.validation_rules.items()} if current else {}
    for column, rule in submission.validation_rules.items():
        entries = history.setdefault(column, [])
        if not entries or entries[-1].rule != rule:
            entries.append(RuleEntry.starting(rule, now))
    for column, entries in history.items():
        if column not in submission.validation_rules and entries and entries[-1].rule != NO_RULE:
            entries.append(RuleEntry.starting(NO_RULE, now))
    return ResultTableMeta(test_id=test_id, name=submission.name, description=submission.description,
                           columns_meta=list(submission.columns_meta), rows_meta=rows, validation_rules=history,
                           sut_package_name=submission.sut_package_name,
                           revision=current.revision if current else 0)


def _better(value: float, than: float, *, higher_is_better: bool) -> bool:
    return value > than if higher_is_better else value < than


def _judged(cell: Cell, column: ColumnMeta, rule: RuleEntry | None, best: BestResult | None) -> CellStatus:
    """The cell's final status: a sent verdict stands; UNSET is judged when the column has a rule."""
    higher_is_better = column.higher_is_better
    if cell.status is not CellStatus.UNSET or rule is None or higher_is_better is None or cell.value is None:
        return cell.status
    limits = rule.limits(best.value if best else None, higher_is_better=higher_is_better)
    passed = all(_better(cell.value, limit, higher_is_better=higher_is_better) for limit in limits)
    return CellStatus.PASS if passed else CellStatus.ERROR


def table_status(statuses: Iterable[CellStatus]) -> CellStatus:
    """ERROR if any cell failed, else WARNING, else PASS if any cell passed, else UNSET (nothing judged)."""
    seen = set(statuses)
    return next((status for status in _STATUS_RANK if status in seen), CellStatus.UNSET)


def _run_table(meta: ResultTableMeta, cells: list[StoredCell]) -> RunResultTable:
    types = {c.name: c.type for c in meta.columns_meta}
    by_row: dict[str, dict[str, CellView]] = {}
    for cell in cells:
        value = cell.value if cell.value is not None else cell.value_text
        by_row.setdefault(cell.row, {})[cell.column] = CellView(value=value, status=cell.status,
                                                                type=types.get(cell.column))
    known = set(meta.rows_meta)
    rows = [r for r in meta.rows_meta if r in by_row] + [r for r in by_row if r not in known]
    present = {c.column for c in cells}
    return RunResultTable(name=meta.name, description=meta.description,
                          columns=[c for c in meta.columns_meta if c.visible and c.name in present], rows=rows,
                          table_data={row: by_row[row] for row in rows},
                          table_status=table_status(c.status for c in cells))


class ResultsService:
    """The only way the CI ingestion and the pages touch results tables."""

    def __init__(self, repository: ResultsRepository, ignored_runs: IgnoredRuns, clock: Clock) -> None:
        self._repository = repository
        self._ignored_runs = ignored_runs
        self._clock = clock

    async def submit(self, *, test_id: UUID, run_id: UUID, submission: ResultSubmission) -> SubmissionOutcome:
        """Store one table of a run; the outcome says whether any cell ended ERROR (stored all the same)."""
        columns = _validate(submission)
        cells = _last_of_each(submission.cells)
        now = self._clock.now()
        meta = await self._merge_metadata(test_id, submission, cells, now)
        bests = await self._current_bests(test_id, submission.name)
        improvements = []
        for cell in cells:
            higher_is_better = columns[cell.column].higher_is_better
            if cell.value is None or higher_is_better is None:
                continue
            best = bests.get(cell.key)
            if best is None or _better(cell.value, best.value, higher_is_better=higher_is_better):
                bests[cell.key] = BestResult(key=cell.key, value=cell.value, result_date=now, run_id=run_id)
                improvements.append(bests[cell.key])
        if improvements:
            await self._repository.add_best_results(test_id, submission.name, improvements)
        final = [msgspec.structs.replace(c, status=_judged(c, columns[c.column], meta.latest_rule(c.column),
                                                           bests.get(c.key)))
                 for c in cells]
        if final:
            sut_time = datetime.fromtimestamp(submission.sut_timestamp, UTC)
            await self._repository.save_run_cells(test_id, submission.name, run_id, sut_time, final, now)
        return SubmissionOutcome(name=submission.name, stored_cells=len(final), new_best_results=len(improvements),
                                 error_cells=tuple(c.key for c in final if c.status is CellStatus.ERROR))

    async def _merge_metadata(self, test_id: UUID, submission: ResultSubmission, cells: list[Cell],
                              now: datetime) -> ResultTableMeta:
        """Create or update the table; a merge lost to a concurrent one is redone on the fresh row."""
        for _ in range(MAX_MERGE_ATTEMPTS):
            current = await self._repository.get_table(test_id, submission.name)
            merged = _merged(current, test_id, submission, cells, now)
            if current is None:
                if await self._repository.add_table(merged):
                    return merged
            elif merged == current:
                return current
            else:
                changed = msgspec.structs.replace(merged, revision=current.revision + 1)
                if await self._repository.replace_table(changed, expected_revision=current.revision):
                    return changed
        raise AlreadyExists(f"Results table {submission.name} is being changed concurrently; retry",
                            submission.name)

    async def _current_bests(self, test_id: UUID, name: str) -> dict[str, BestResult]:
        """The newest best per key, from runs that are not ignored."""
        history = await self._repository.best_results(test_id, name)
        ignored = await self._ignored_runs.ignored({b.run_id for b in history}) if history else set()
        current: dict[str, BestResult] = {}
        for best in sorted(history, key=lambda b: b.result_date, reverse=True):
            if best.run_id not in ignored:
                current.setdefault(best.key, best)
        return current

    async def tables_for_run(self, test_id: UUID, run_id: UUID) -> list[RunResultTable]:
        """The run's tables in the order it first submitted them, each with a worst-cell status."""
        by_table = await self._repository.run_cells(test_id, run_id)
        metas = await asyncio.gather(*(self._repository.get_table(test_id, name) for name in by_table))
        return [_run_table(meta, cells) for meta, cells in zip(metas, by_table.values(), strict=True)
                if meta is not None]

    async def history(self, test_id: UUID, *, table_names: list[str] | None = None,
                      since: datetime | None = None, until: datetime | None = None) -> list[TableHistory]:
        """Tables across their newest runs (SUT time in [since, until]), ignored runs left out.

        Every table of the test when ``table_names`` is None; unknown names are skipped.
        """
        if since is not None and until is not None and since > until:
            raise InvalidInput("since must not be after until")
        if table_names is None:
            metas = await self._repository.list_tables(test_id)
        else:
            found = await asyncio.gather(*(self._repository.get_table(test_id, n) for n in dict.fromkeys(table_names)))
            metas = [m for m in found if m is not None]
        cells = await asyncio.gather(*(
            self._repository.history_cells(test_id, m.name, since=since, until=until, max_runs=MAX_HISTORY_RUNS,
                                           max_cells=MAX_HISTORY_CELLS) for m in metas))
        bests = await asyncio.gather(*(self._repository.best_results(test_id, m.name) for m in metas))
        runs = {c.run_id for table in cells for c in table} | {b.run_id for table in bests for b in table}
        ignored = await self._ignored_runs.ignored(runs) if runs else set()
        return [self._table_history(meta, table_cells, table_bests, ignored)
                for meta, table_cells, table_bests in zip(metas, cells, bests, strict=True)]

    @staticmethod
    def _table_history(meta: ResultTableMeta, cells: list[StoredCell], bests: list[BestResult],
                       ignored: set[UUID]) -> TableHistory:
        series: dict[str, list[HistoryPoint]] = {}
        for cell in sorted(cells, key=lambda c: (c.sut_timestamp, str(c.run_id), c.row)):
            if cell.value is not None and cell.run_id not in ignored:
                series.setdefault(cell.column, []).append(HistoryPoint(
                    sut_timestamp=cell.sut_timestamp, run_id=cell.run_id, row=cell.row, value=cell.value,
                    status=cell.status))
        return TableHistory(name=meta.name, description=meta.description, columns=meta.columns_meta,
                            rows=meta.rows_meta, series=series,
                            best_results=sorted((b for b in bests if b.run_id not in ignored),
                                                key=lambda b: (b.result_date, b.key)),
                            validation_rules=meta.validation_rules)
