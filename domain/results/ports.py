"""What the results use cases need from storage and from the runs."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Protocol
from uuid import UUID

from domain.results.entities import BestResult, Cell, ResultTableMeta, StoredCell
from domain.results.graph_views import GraphView
from domain.runs.entities import Run


class ResultsRepository(Protocol):
    """Table metadata, cells and best results of a test's results tables."""

    async def get_table(self, test_id: UUID, name: str) -> ResultTableMeta | None:
        """The table's metadata, if the test has a table of that name."""
        ...

    async def list_tables(self, test_id: UUID) -> list[ResultTableMeta]:
        """Every table of the test, ordered by name."""
        ...

    async def add_table(self, meta: ResultTableMeta) -> bool:
        """Store a new table; False when the test already has one of that name (nothing is written)."""
        ...

    async def replace_table(self, meta: ResultTableMeta, *, expected_revision: int) -> bool:
        """Overwrite the table only if its stored revision is still ``expected_revision``; say whether it did."""
        ...

    async def best_results(self, test_id: UUID, name: str) -> list[BestResult]:
        """The table's whole best-result history, every run included (ignored ones too)."""
        ...

    async def add_best_results(self, test_id: UUID, name: str, results: list[BestResult]) -> None:
        """Append improvements to the history."""
        ...

    async def save_run_cells(self, test_id: UUID, name: str, run_id: UUID, sut_timestamp: datetime,
                             cells: list[Cell], submitted_at: datetime) -> None:
        """Upsert a run's cells by (run, column, row), each stamped with ``sut_timestamp``.

        ``submitted_at`` of the run's first write of the table orders its tables on the run page.
        """
        ...

    async def run_cells(self, test_id: UUID, run_id: UUID) -> dict[str, list[StoredCell]]:
        """The run's cells per table, tables in the order the run first submitted them."""
        ...

    async def history_cells(self, test_id: UUID, name: str, *, since: datetime | None, until: datetime | None,
                            max_runs: int, max_cells: int) -> list[StoredCell]:
        """Cells with a SUT time in [since, until] of the newest ``max_runs`` such runs, at most ``max_cells``.

        Newest runs first, so the cap drops the oldest cells.
        """
        ...


class IgnoredRuns(Protocol):
    """Triage state of runs: results of ignored runs count neither for bests nor for charts."""

    async def ignored(self, run_ids: set[UUID]) -> set[UUID]:
        """Those of ``run_ids`` whose investigation status is ``ignored``."""
        ...


class GraphViewRepository(Protocol):
    """Saved graph views, one partition per test."""

    async def list_views(self, test_id: UUID, limit: int) -> list[GraphView]:
        """Up to ``limit`` views of the test, oldest first."""
        ...

    async def add_view(self, view: GraphView, created_at: datetime) -> None:
        """Store a new view (its id is fresh)."""
        ...

    async def replace_view(self, view: GraphView) -> bool:
        """Overwrite name, description and graphs of an existing view; False when there is none."""
        ...


class RunLookup(Protocol):
    """Runs by id, whatever their type: charts need their triage state and package versions."""

    async def get_many(self, run_ids: Collection[UUID]) -> dict[UUID, Run]:
        """Those of the runs that exist, by id; a chart's hundreds of runs must not cost a read each."""
        ...
