"""The results page of a test: every table's charts over its newest runs, and the saved graph views.

Reads stay bounded whatever a test accumulates: each table contributes at most ``GRAPH_MAX_RUNS``
newest runs inside the asked window (its run index is ordered by SUT time, so that is one
partition slice plus one slice per run), the runs of all tables are read together (``get_many``: a
slice of their CI job's partition rather than a read each), and a test has at most
``MAX_VIEWS_PER_TEST`` views.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from uuid import UUID, uuid4

import msgspec

from domain.catalogue.service import CatalogueService
from domain.clock import Clock
from domain.concurrency import bounded_gather
from domain.errors import InvalidInput, NotFound
from domain.results.charts import Chart, RunFacts, release_of, table_charts, ticks
from domain.results.entities import BestResult, ResultTableMeta, StoredCell
from domain.results.graph_views import MAX_VIEWS_PER_TEST, GraphView, check_view_fields
from domain.results.ports import GraphViewRepository, ResultsRepository, RunLookup
from domain.results.service import MAX_HISTORY_CELLS, MAX_NAME_LENGTH
from domain.runs.entities import InvestigationStatus, Run
from domain.runs.run_results import DEFAULT_SUT_PACKAGE, sut_package_candidates

GRAPH_MAX_RUNS = 500  # newest runs per table a chart shows; narrow the dates to look further back
MAX_TABLE_FILTER = 100  # table names one request may ask for
TABLES_IN_FLIGHT = 4




class TestGraphs(msgspec.Struct, kw_only=True, frozen=True):
    """The answer of the results page: Chart.js configs, the shared x range, release filters, views."""

    __test__ = False

    graphs: list[Chart]
    ticks: dict[str, str]
    releases_filters: list[str]
    graph_views: list[GraphView]


def _sut_version(run: Run, package_name: str) -> str | None:
    """The SUT version the run tested: its package in the order upgrades resolve, else the run's version."""
    by_name = {p.get("name"): p for p in run.details.get("packages", []) if isinstance(p, dict)}
    for candidate in sut_package_candidates(package_name):
        if (package := by_name.get(candidate)) is not None and package.get("version"):
            return str(package["version"])
    return run.product_version or run.scylla_version or None


def _facts(run: Run, package_name: str) -> RunFacts:
    sut_names = set(sut_package_candidates(package_name))
    others = {}
    for package in run.details.get("packages", []):
        if isinstance(package, dict) and package.get("name") and package["name"] not in sut_names:
            date = package.get("date")
            others[str(package["name"])] = f"{package.get('version')}" + (f" ({date})" if date else "")
    version = _sut_version(run, package_name)
    return RunFacts(release=release_of(version) if version else None, sut_version=version, packages=others)


class ResultGraphsService:
    """Charts of a test's results tables and the views people saved of them."""

    def __init__(self, catalogue: CatalogueService, results: ResultsRepository, views: GraphViewRepository,
                 runs: RunLookup, clock: Clock, concurrency: int) -> None:
        self._catalogue = catalogue
        self._results = results
        self._views = views
        self._runs = runs
        self._clock = clock
        self._concurrency = concurrency

    async def has_results(self, test_id: UUID) -> bool:
        """Whether the test has any results table (a cheap probe the run cards make for their chart button)."""
        return bool(await self._results.list_tables(test_id))

    async def test_graphs(self, test_id: UUID, *, since: datetime | None = None, until: datetime | None = None,
                          table_names: list[str] | None = None) -> TestGraphs:
        """Charts of the test's tables (those named, when names are given) for runs with a SUT time in the window.

        Ignored runs are left out of points, best lines and thresholds alike.
        """
        if since is not None and until is not None and since > until:
            raise InvalidInput("startDate must not be after endDate")
        if table_names and (len(table_names) > MAX_TABLE_FILTER or any(len(n) > MAX_NAME_LENGTH for n in table_names)):
            raise InvalidInput(f"tableNames[] takes at most {MAX_TABLE_FILTER} names of at most {MAX_NAME_LENGTH} "
                               "characters")
        await self._catalogue.get_test(test_id)
        metas = await self._results.list_tables(test_id)
        if table_names:
            wanted = set(table_names)
            metas = [m for m in metas if m.name in wanted]
        # Each table's cell read already keeps ``concurrency`` slices in flight, so tables go a few at a time.
        cells, bests, views = await asyncio.gather(
            bounded_gather([self._results.history_cells(test_id, m.name, since=since, until=until,
                                                        max_runs=GRAPH_MAX_RUNS, max_cells=MAX_HISTORY_CELLS)
                            for m in metas], TABLES_IN_FLIGHT),
            bounded_gather([self._results.best_results(test_id, m.name) for m in metas], self._concurrency),
            self._views.list_views(test_id, MAX_VIEWS_PER_TEST))
        run_ids = {c.run_id for table in cells for c in table} | {b.run_id for t in bests for b in t}
        runs = await self._runs.get_many(run_ids)
        graphs: list[Chart] = []
        releases: set[str] = set()
        for meta, table_cells, table_bests in zip(metas, cells, bests, strict=True):
            counted, facts = self._counted(meta, table_cells, table_bests, runs)
            charts = table_charts(meta, *counted, facts, meta.sut_package_name or DEFAULT_SUT_PACKAGE)
            graphs += charts
            if charts:
                releases |= {f.release for f in facts.values() if f.release is not None}
        return TestGraphs(graphs=graphs, ticks=ticks(graphs), releases_filters=sorted(releases), graph_views=views)

    @staticmethod
    def _counted(meta: ResultTableMeta, cells: list[StoredCell], bests: list[BestResult], runs: dict[UUID, Run]
                 ) -> tuple[tuple[list[StoredCell], list[BestResult]], dict[UUID, RunFacts]]:
        """Cells and bests of runs not ignored, and what the charts show of those runs."""
        def counts(run_id: UUID) -> bool:
            run = runs.get(run_id)
            return run is None or run.investigation_status is not InvestigationStatus.IGNORED

        package = meta.sut_package_name or DEFAULT_SUT_PACKAGE
        kept = [c for c in cells if counts(c.run_id)]
        facts = {run_id: _facts(run, package) for run_id in {c.run_id for c in kept}
                 if (run := runs.get(run_id)) is not None}
        return (kept, [b for b in bests if counts(b.run_id)]), facts

    # -- graph views --------------------------------------------------------------------------

    async def create_view(self, test_id: UUID, name: str, description: str) -> GraphView:
        """A new empty view of the test."""
        check_view_fields(name, description, {})
        await self._catalogue.get_test(test_id)
        if len(await self._views.list_views(test_id, MAX_VIEWS_PER_TEST)) >= MAX_VIEWS_PER_TEST:
            raise InvalidInput(f"A test has at most {MAX_VIEWS_PER_TEST} graph views; delete or reuse one")
        view = GraphView(test_id=test_id, id=uuid4(), name=name, description=description)
        await self._views.add_view(view, self._clock.now())
        return view

    async def update_view(self, test_id: UUID, view_id: UUID, name: str, description: str,
                          graphs: dict[str, str]) -> GraphView:
        """Replace the view's name, description and charts (charts missing from ``graphs`` leave the view)."""
        check_view_fields(name, description, graphs)
        view = GraphView(test_id=test_id, id=view_id, name=name, description=description, graphs=graphs)
        if not await self._views.replace_view(view):
            raise NotFound(f"Graph view {view_id} does not exist for test {test_id}", str(view_id))
        return view

