"""What the results graphs cost over the raw history read of the same cells, on each engine.

Builds one test with ``--runs`` runs (each a real run row, so charts look them up), every run
submitting one table of ``--columns`` numeric columns x ``--rows`` rows through ``ResultsService``
(a temporary SQLite file; for scylla a throw-away keyspace ``bench_<hex>``, dropped at the end), then
times, over ``--repeat`` rounds:

- the cell read alone (the table's run index, then its cells by SUT time, or a slice per run for
  runs written before that copy existed),
- ``ResultsService.history``: the raw cells, bests and rules of the table's newest runs,
- ``ResultGraphsService.test_graphs``: the Chart.js answer of the results page (the same partition
  reads, plus the runs read together, the catalogue check, the views, and the chart building).

It prints the medians, the storage statements per call (from the histogram ``InstrumentedStore``
records; the first call of the three reads the run locators, which later calls find cached) and the
ratios charts / history and cells / charts (the storage share of the answer); it has no thresholds
and is not a test.

    .venv/bin/python bench/result_graphs.py                       # both engines, 200 runs x 4 x 3
    .venv/bin/python bench/result_graphs.py --engine sqlite --runs 500
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.scratch import scratch_store, storage_statements
from domain.catalogue.service import CatalogueService
from domain.results.entities import Cell, ColumnMeta, ResultSubmission, ResultType, ValidationRule
from domain.results.graphs import GRAPH_MAX_RUNS, ResultGraphsService
from domain.results.service import MAX_HISTORY_CELLS, ResultsService
from domain.runs.entities import Run
from domain.runs.plugins import PluginName
from infrastructure.storage.catalogue_repository import StoreCatalogueRepository
from infrastructure.storage.graph_view_repository import StoreGraphViewRepository
from infrastructure.storage.results_repository import StoreResultsRepository
from infrastructure.storage.run_repository import StoreRunRepository

DAY = 86_400
JAN_1 = 1_735_689_600  # 2025-01-01T00:00:00Z


class SteppingClock:
    """Each submission a second later, so every best result keeps its own row."""

    def __init__(self) -> None:
        self.moment = datetime(2026, 1, 1, tzinfo=UTC)

    def now(self) -> datetime:
        self.moment += timedelta(seconds=1)
        return self.moment


async def median_ms(call: Callable[[], Awaitable[Any]], repeat: int, engine: str) -> tuple[float, float]:
    """The median time of ``call`` in ms and the storage statements it issued per call."""
    times = []
    before = storage_statements(engine)
    for _ in range(repeat):
        started = time.perf_counter()
        await call()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000, (storage_statements(engine) - before) / repeat


async def measure(engine: str, args: argparse.Namespace) -> None:
    async with scratch_store(engine) as (settings, store):
        concurrency = settings.storage.max_concurrency
        catalogue = CatalogueService(StoreCatalogueRepository(store))
        release = await catalogue.create_release("bench")
        group = await catalogue.create_group(release.id, "perf")
        test = await catalogue.create_test(group.id, "graphs", build_system_id="bench/perf/graphs")
        run_repository = StoreRunRepository(store, concurrency)
        results_repository = StoreResultsRepository(store, concurrency)
        results = ResultsService(results_repository, run_repository, SteppingClock())
        columns = [ColumnMeta(name=f"c{c}", unit="ms", type=ResultType.FLOAT, higher_is_better=c % 2 == 0)
                   for c in range(args.columns)]
        for n in range(args.runs):
            run = Run(id=uuid.uuid4(), build_id="bench/perf/graphs", start_time=datetime.now(UTC),
                      plugin_name=PluginName.GENERIC, test_id=test.id, product_version=f"2025.{n % 3}.{n}")
            await run_repository.claim(run)
            await results.submit(test_id=test.id, run_id=run.id, submission=ResultSubmission(
                name="load", columns_meta=columns, validation_rules={"c0": ValidationRule(best_pct=5)},
                sut_timestamp=JAN_1 + n * DAY / 4,
                cells=[Cell(column=c.name, row=f"r{r}", value=100 + (n * 7 + r) % 13)
                       for c in columns for r in range(args.rows)]))
        graphs = ResultGraphsService(catalogue, results_repository, StoreGraphViewRepository(store),
                                     run_repository, SteppingClock(), concurrency)
        (cells, cells_n), (history, history_n), (charts, charts_n) = [await median_ms(call, args.repeat, engine)
                                                                      for call in (
            lambda: results_repository.history_cells(test.id, "load", since=None, until=None,
                                                     max_runs=GRAPH_MAX_RUNS, max_cells=MAX_HISTORY_CELLS),
            lambda: results.history(test.id),
            lambda: graphs.test_graphs(test.id))]
        answer = await graphs.test_graphs(test.id)
        points = sum(len(d["data"]) for g in answer.graphs for d in g["data"]["datasets"])
        print(f"{engine}: {args.runs} runs x {args.columns} columns x {args.rows} rows; "
              f"{len(answer.graphs)} charts, {points} points and line vertices")
        print(f"  cells only: p50 {cells:.1f} ms, {cells_n:.0f} statements; history (cells, bests, ignored runs): "
              f"p50 {history:.1f} ms, {history_n:.0f} statements; test-results (charts): p50 {charts:.1f} ms, "
              f"{charts_n:.0f} statements")
        print(f"  ratio charts / history = {charts / history:.2f}; cells / charts = {cells / charts:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=("sqlite", "scylla", "both"), default="both")
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--columns", type=int, default=4)
    parser.add_argument("--rows", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    for engine in ("sqlite", "scylla") if args.engine == "both" else (args.engine,):
        asyncio.run(measure(engine, args))


if __name__ == "__main__":
    main()
