"""Results graphs over real storage on every engine: windowed reads, bests, ignored runs and views.

The scylla keyspace is shared by the session, so every test works under its own catalogue names.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import UTC, datetime

import pytest

from domain.catalogue.service import CatalogueService
from domain.errors import InvalidInput, NotFound
from domain.results.entities import Cell, CellStatus, ColumnMeta, ResultSubmission, ResultType, ValidationRule
from domain.results.graph_views import MAX_VIEWS_PER_TEST
from domain.results.graphs import ResultGraphsService
from domain.results.service import ResultsService
from domain.runs.entities import InvestigationStatus, Run
from domain.runs.plugins import PluginName
from infrastructure.storage.catalogue_repository import StoreCatalogueRepository
from infrastructure.storage.graph_view_repository import StoreGraphViewRepository
from infrastructure.storage.results_repository import StoreResultsRepository
from infrastructure.storage.store import TableStore
from tests.unit.fakes import FakeClock

DAY = 86_400
JAN_1 = 1_735_689_600  # 2025-01-01T00:00:00Z


class RunsById:
    """Runs looked up by id, as the run service would find them."""

    def __init__(self) -> None:
        self.runs: dict[uuid.UUID, Run] = {}

    def add(self, version: str, *, ignored: bool = False) -> uuid.UUID:
        run = Run(id=uuid.uuid4(), build_id="graphs/job", start_time=datetime.now(UTC),
                  plugin_name=PluginName.GENERIC, product_version=version,
                  investigation_status=InvestigationStatus.IGNORED if ignored else InvestigationStatus.IN_PROGRESS)
        self.runs[run.id] = run
        return run.id

    async def get_many(self, run_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Run]:
        return {r: self.runs[r] for r in run_ids if r in self.runs}

    async def ignored(self, run_ids: set[uuid.UUID]) -> set[uuid.UUID]:
        return {r for r in run_ids if r in self.runs
                and self.runs[r].investigation_status is InvestigationStatus.IGNORED}


@pytest.fixture
def runs() -> RunsById:
    return RunsById()


@pytest.fixture
def catalogue(engine: TableStore) -> CatalogueService:
    return CatalogueService(StoreCatalogueRepository(engine))


@pytest.fixture
def graphs(engine: TableStore, catalogue: CatalogueService, runs: RunsById) -> ResultGraphsService:
    return ResultGraphsService(catalogue, StoreResultsRepository(engine, concurrency=8),
                               StoreGraphViewRepository(engine), runs, FakeClock(), concurrency=8)


async def _test_id(catalogue: CatalogueService) -> uuid.UUID:
    tag = uuid.uuid4().hex[:10]
    release = await catalogue.create_release(f"graphs-{tag}")
    group = await catalogue.create_group(release.id, "perf")
    return (await catalogue.create_test(group.id, "perf", build_system_id=f"graphs-{tag}/perf")).id


async def test_charts_read_the_window_and_leave_ignored_runs_out(engine: TableStore, catalogue: CatalogueService,
                                                                 runs: RunsById, graphs: ResultGraphsService) -> None:
    test_id = await _test_id(catalogue)
    clock = FakeClock()
    results = ResultsService(StoreResultsRepository(engine, concurrency=8), runs, clock)
    columns = [ColumnMeta(name="ops", unit="op/s", type=ResultType.FLOAT, higher_is_better=True)]
    submitted = []
    for day, value, version, ignored in ((0, 100, "6.1.0", False), (2, 120, "6.2.0", False), (3, 999, "6.2.1", True),
                                         (5, 90, "6.2.2", False)):
        clock.advance(minutes=1)  # bests are keyed by their date: each submission needs its own
        run_id = runs.add(version, ignored=ignored)
        submitted.append(run_id)
        await results.submit(test_id=test_id, run_id=run_id, submission=ResultSubmission(
            name="load", columns_meta=columns, validation_rules={"ops": ValidationRule(best_pct=10)},
            sut_timestamp=JAN_1 + day * DAY, cells=[Cell(column="ops", row="mixed", value=value)]))

    answer = await graphs.test_graphs(test_id)
    [chart] = answer.graphs
    datasets = {d["label"]: d for d in chart["data"]["datasets"]}
    assert list(datasets) == ["6.1 - mixed", "6.2 - mixed", "best - mixed", "error threshold - mixed"]
    assert [p["y"] for p in datasets["6.2 - mixed"]["data"]] == [120.0, 90.0]
    assert [p["status"] for p in datasets["6.2 - mixed"]["data"]] == [CellStatus.PASS, CellStatus.ERROR]
    assert [p["y"] for p in datasets["best - mixed"]["data"]] == [100.0, 120.0, 120.0]
    assert [p["y"] for p in datasets["error threshold - mixed"]["data"]] == [90.0, 108.0, 108.0]
    assert answer.ticks == {"min": "2025-01-01", "max": "2025-01-06"}
    assert answer.releases_filters == ["6.1", "6.2"]

    window = await graphs.test_graphs(test_id, since=datetime.fromtimestamp(JAN_1 + DAY, UTC),
                                      until=datetime.fromtimestamp(JAN_1 + 4 * DAY, UTC))
    [chart] = window.graphs
    assert [p["id"] for d in chart["data"]["datasets"] for p in d["data"] if "id" in p] == [str(submitted[1])]
    assert (await graphs.test_graphs(test_id, table_names=["other"])).graphs == []
    assert await graphs.has_results(test_id) is True


async def test_views_of_a_test(catalogue: CatalogueService, graphs: ResultGraphsService) -> None:
    test_id = await _test_id(catalogue)
    assert await graphs.has_results(test_id) is False
    view = await graphs.create_view(test_id, "Latency", "")
    updated = await graphs.update_view(test_id, view.id, "Latency", "p99", {"load - ops": "{}"})
    assert (await graphs.test_graphs(test_id)).graph_views == [updated]
    with pytest.raises(NotFound):
        await graphs.update_view(test_id, uuid.uuid4(), "x", "", {})
    with pytest.raises(NotFound):
        await graphs.create_view(uuid.uuid4(), "x", "")
    assert (await graphs.test_graphs(test_id)).graph_views == [updated]


async def test_a_test_has_a_bounded_number_of_views(catalogue: CatalogueService, graphs: ResultGraphsService) -> None:
    test_id = await _test_id(catalogue)
    for n in range(MAX_VIEWS_PER_TEST):
        await graphs.create_view(test_id, f"view {n}", "")
    with pytest.raises(InvalidInput):
        await graphs.create_view(test_id, "one too many", "")
    views = (await graphs.test_graphs(test_id)).graph_views
    assert len(views) == MAX_VIEWS_PER_TEST and "one too many" not in {v.name for v in views}
