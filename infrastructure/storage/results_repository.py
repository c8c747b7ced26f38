"""Results tables on the table layer (either engine).

Cells are upserted by (run, column, row) in their table's partition, so a run's cells are one
slice. Two index partitions avoid scans: the tables of a run (for the run page, in first-write
order) and the runs of a table by SUT time (so a history reads only its newest runs). A copy of the
cells ordered by their run's SUT time lets a history read all its runs in one paged slice; a run
whose copy is not marked complete (written before the copy existed, or a submission cut short) is
read from its own slice instead. Metadata is written only with lightweight transactions (insert if
absent, update if the revision is unchanged), so concurrent merges never lose each other's rows.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import msgspec

from domain.concurrency import bounded_gather
from domain.results.entities import BestResult, Cell, CellStatus, ColumnMeta, ResultTableMeta, RuleEntry, StoredCell
from infrastructure.storage import tables
from infrastructure.storage.store import Bound, TableStore

MAX_TABLES = 10_000  # results tables of one test, or of one run
MAX_RUN_TABLE_CELLS = 1_000_000  # cells of one run in one table (every submission of it, merged)
MAX_BEST_RESULTS = 100_000  # best-result history of one table
HISTORY_PAGE = 5_000  # rows of the SUT-ordered copy per read of a history
COMPLETE = {"column_name": "", "row_name": ""}  # key of the row marking a run's copy complete

_columns_json = msgspec.json.Decoder(list[ColumnMeta])
_rules_json = msgspec.json.Decoder(dict[str, list[RuleEntry]])


def _meta(row: dict[str, Any]) -> ResultTableMeta:
    return ResultTableMeta(test_id=row["test_id"], name=row["name"], description=row["description"] or "",
                           columns_meta=_columns_json.decode(row["columns_meta"] or "[]"),
                           rows_meta=list(row["rows_meta"]),
                           validation_rules=_rules_json.decode(row["validation_rules"] or "{}"),
                           sut_package_name=row["sut_package_name"] or "", revision=row["revision"] or 0)


def _meta_values(meta: ResultTableMeta) -> dict[str, Any]:
    return {"description": meta.description, "columns_meta": msgspec.json.encode(meta.columns_meta).decode(),
            "rows_meta": meta.rows_meta, "validation_rules": msgspec.json.encode(meta.validation_rules).decode(),
            "sut_package_name": meta.sut_package_name, "revision": meta.revision}


def _in_window(cell: StoredCell, since: datetime | None, until: datetime | None) -> bool:
    return (since is None or cell.sut_timestamp >= since) and (until is None or cell.sut_timestamp <= until)


def _stored(row: dict[str, Any]) -> StoredCell:
    return StoredCell(run_id=row["run_id"], sut_timestamp=datetime.fromtimestamp(row["sut_timestamp"], UTC),
                      column=row["column_name"], row=row["row_name"], value=row["value"],
                      value_text=row["value_text"], status=CellStatus(row["status"]))


class StoreResultsRepository:
    """Implements ``ResultsRepository``; ``concurrency`` bounds the cell writes in flight."""

    def __init__(self, store: TableStore, concurrency: int) -> None:
        self._store = store
        self._concurrency = concurrency

    # -- metadata -----------------------------------------------------------------------------

    async def get_table(self, test_id: UUID, name: str) -> ResultTableMeta | None:
        """One row."""
        row = await self._store.get(tables.result_tables, {"test_id": test_id, "name": name})
        return _meta(row) if row else None

    async def list_tables(self, test_id: UUID) -> list[ResultTableMeta]:
        """The test's partition, which is in name order."""
        page = await self._store.select(tables.result_tables, {"test_id": test_id}, limit=MAX_TABLES)
        return [_meta(r) for r in page.rows]

    async def add_table(self, meta: ResultTableMeta) -> bool:
        """Insert if absent."""
        row = {"test_id": meta.test_id, "name": meta.name, **_meta_values(meta)}
        return await self._store.insert(tables.result_tables, row, if_not_exists=True)

    async def replace_table(self, meta: ResultTableMeta, *, expected_revision: int) -> bool:
        """Update conditioned on the revision read before the merge."""
        return await self._store.update(tables.result_tables, {"test_id": meta.test_id, "name": meta.name},
                                        _meta_values(meta), if_equal={"revision": expected_revision})

    # -- best results -------------------------------------------------------------------------

    async def best_results(self, test_id: UUID, name: str) -> list[BestResult]:
        """The table's best partition, per key newest first."""
        page = await self._store.select(tables.result_best, {"test_id": test_id, "table_name": name},
                                        limit=MAX_BEST_RESULTS)
        return [BestResult(key=r["key"], value=r["value"], result_date=r["result_date"], run_id=r["run_id"])
                for r in page.rows]

    async def add_best_results(self, test_id: UUID, name: str, results: list[BestResult]) -> None:
        """One insert per improvement, concurrently."""
        await bounded_gather((self._store.insert(tables.result_best, {
            "test_id": test_id, "table_name": name, "key": b.key, "result_date": b.result_date, "value": b.value,
            "run_id": b.run_id}) for b in results), self._concurrency)

    # -- cells --------------------------------------------------------------------------------

    async def save_run_cells(self, test_id: UUID, name: str, run_id: UUID, sut_timestamp: datetime,
                             cells: list[Cell], submitted_at: datetime) -> None:
        """Index the run first, then upsert the cells, then copy the run's cells by SUT time.

        Cells the indexes do not reach never exist. The table's run index lists a run once, at its
        latest SUT time. The run's own index row is written last of the indexes, so a retry after a
        crash finds it stale and redoes the other steps. A run submitting again first unmarks its
        copy, which is rewritten whole from its merged slice and marked complete only at the end.
        """
        sut = sut_timestamp.timestamp()
        index_key = {"test_id": test_id, "run_id": run_id, "table_name": name}
        indexed = await self._store.get(tables.result_run_tables, index_key)
        copy_key = {"test_id": test_id, "table_name": name, "run_id": run_id}
        if indexed is not None and indexed["sut_timestamp"] == sut:
            await self._store.delete(tables.result_cells_by_time, {**copy_key, "run_sut": sut, **COMPLETE})
        if indexed is None or indexed["sut_timestamp"] != sut:
            listing = {"test_id": test_id, "table_name": name, "run_id": run_id}
            if indexed is not None:
                await self._store.delete(tables.result_table_runs,
                                         {**listing, "sut_timestamp": indexed["sut_timestamp"]})
            await self._store.insert(tables.result_table_runs, {**listing, "sut_timestamp": sut})
            first = indexed["first_submitted_at"] if indexed else submitted_at
            await self._store.insert(tables.result_run_tables,
                                     {**index_key, "sut_timestamp": sut, "first_submitted_at": first})
        await bounded_gather((self._store.insert(tables.result_cells, {
            "test_id": test_id, "table_name": name, "run_id": run_id, "column_name": c.column, "row_name": c.row,
            "sut_timestamp": sut, "value": c.value, "value_text": c.value_text, "status": c.status.value,
        }) for c in cells), self._concurrency)
        merged = ([StoredCell(run_id=run_id, sut_timestamp=sut_timestamp, column=c.column, row=c.row, value=c.value,
                              value_text=c.value_text, status=c.status) for c in cells] if indexed is None
                  else await self._run_slice(test_id, name, run_id, MAX_RUN_TABLE_CELLS))
        await bounded_gather((self._store.insert(tables.result_cells_by_time, {
            **copy_key, "run_sut": sut, "column_name": c.column, "row_name": c.row,
            "sut_timestamp": c.sut_timestamp.timestamp(), "value": c.value, "value_text": c.value_text,
            "status": c.status.value}) for c in merged), self._concurrency)
        await self._store.insert(tables.result_cells_by_time, {**copy_key, "run_sut": sut, **COMPLETE})
        if indexed is not None and indexed["sut_timestamp"] != sut:  # the copy at the former SUT time goes
            stale = [{"column_name": c.column, "row_name": c.row} for c in merged] + [COMPLETE]
            await bounded_gather((self._store.delete(tables.result_cells_by_time, {
                **copy_key, "run_sut": indexed["sut_timestamp"], **key}) for key in stale), self._concurrency)

    async def _run_slice(self, test_id: UUID, name: str, run_id: UUID, limit: int) -> list[StoredCell]:
        page = await self._store.select(tables.result_cells, {"test_id": test_id, "table_name": name,
                                                              "run_id": run_id}, limit=limit)
        return [_stored(r) for r in page.rows]

    async def run_cells(self, test_id: UUID, run_id: UUID) -> dict[str, list[StoredCell]]:
        """The run's index partition, then each table's slice concurrently."""
        page = await self._store.select(tables.result_run_tables, {"test_id": test_id, "run_id": run_id},
                                        limit=MAX_TABLES)
        names = [r["table_name"] for r in sorted(page.rows, key=lambda r: (r["first_submitted_at"], r["table_name"]))]
        slices = await bounded_gather((self._run_slice(test_id, n, run_id, MAX_RUN_TABLE_CELLS) for n in names),
                                      self._concurrency)
        return dict(zip(names, slices, strict=True))

    async def history_cells(self, test_id: UUID, name: str, *, since: datetime | None, until: datetime | None,
                            max_runs: int, max_cells: int) -> list[StoredCell]:
        """The newest runs in the window from the table's run index, then their cells, newest runs first.

        The cells come from the SUT-ordered copy, one paged slice between the runs' SUT times; a run
        whose copy is not complete there is read from its own slice. Each cell keeps the SUT time of
        its own submission, so cells are filtered by the window again.
        """
        window = [Bound("sut_timestamp", ">=", since.timestamp())] if since else []
        window += [Bound("sut_timestamp", "<=", until.timestamp())] if until else []
        page = await self._store.select(tables.result_table_runs, {"test_id": test_id, "table_name": name},
                                        bounds=window, limit=max_runs)
        # A run listed twice (two submissions racing with different SUT times) is read once.
        listed: dict[UUID, float] = {}
        for row in page.rows:
            listed.setdefault(row["run_id"], row["sut_timestamp"])
        if not listed:
            return []
        copied, last = await self._copied(test_id, name, listed, since, until, max_cells)
        order = list(listed)
        if last is not None:  # the copy was read up to the cap: later runs would be cut anyway
            order = order[:order.index(last) + 1]
        cells: list[StoredCell] = []
        for start in range(0, len(order), self._concurrency):  # a chunk at a time, to stop at the cap
            chunk = order[start:start + self._concurrency]
            missing = [r for r in chunk if r not in copied]
            slices = dict(zip(missing, await bounded_gather((self._run_slice(test_id, name, r, max_cells)
                                                             for r in missing), self._concurrency), strict=True))
            for run_id in chunk:
                cells += copied[run_id] if run_id in copied else [c for c in slices[run_id]
                                                                   if _in_window(c, since, until)]
            if len(cells) >= max_cells:
                return cells[:max_cells]
        return cells

    async def _copied(self, test_id: UUID, name: str, listed: dict[UUID, float], since: datetime | None,
                      until: datetime | None, max_cells: int) -> tuple[dict[UUID, list[StoredCell]], UUID | None]:
        """Cells in the window of the listed runs whose copy at their listed SUT time is complete.

        Also the run the read stopped at when the cap was reached before the end of the slice.
        Rows at another SUT time (a move cut short) are skipped.
        """
        bounds = [Bound("run_sut", "<=", max(listed.values())), Bound("run_sut", ">=", min(listed.values()))]
        copied: dict[UUID, list[StoredCell]] = {}
        kept = 0
        last: UUID | None = None
        cursor: bytes | None = None
        while True:
            page = await self._store.select(tables.result_cells_by_time, {"test_id": test_id, "table_name": name},
                                            bounds=bounds, cursor=cursor, limit=HISTORY_PAGE)
            for row in page.rows:
                run_id = row["run_id"]
                if listed.get(run_id) != row["run_sut"]:
                    continue
                last = run_id
                if row["column_name"] == COMPLETE["column_name"]:  # sorts first in the run's copy
                    copied[run_id] = []
                elif run_id in copied and _in_window(cell := _stored(row), since, until):
                    copied[run_id].append(cell)
                    kept += 1
            cursor = page.cursor
            if cursor is None:
                return copied, None
            if kept >= max_cells:
                return copied, last
