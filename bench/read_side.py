"""Read-side benchmark: the release dashboard and a test's run list at 10 and at 200 runs per test.

For each storage engine, in one run and one database:

1. the real app (``create_app``, lifespan included) runs in-process under litestar's
   ``AsyncTestClient`` on a temporary SQLite directory or a throw-away keyspace ``bench_<hex>``;
2. ``bench/dataset.py`` writes the realistic catalogue (default 5 releases, 60 groups, 2,000 tests)
   through the real services, then a history for ``--tests-with-runs`` tests of release 1 at
   ``--small`` runs per test and for as many tests of release 2 at ``--large`` runs per test, so
   both boards show the same number of tiles over 20x different histories;
3. each operation is requested ``--iterations`` times per release, the two releases interleaved
   so load drift on the machine hits both alike: ``GET /api/v1/release/stats/v2`` full and
   ``limited=1``, and ``GET /api/v1/test/<id>/runs?limit=10`` over the tests with history;
4. it prints per operation the p50 at each size, the storage statements per request (counted from
   ``argus_storage_operation_duration_seconds``), and the ratio large/small of the p50s.

The ratio must stay under 1.5 (cost follows tests shown, not runs stored); the script exits 1
otherwise, or when any request fails. Usage: see ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(REPO))

from litestar.testing import AsyncTestClient  # noqa: E402

from app.factory import create_app  # noqa: E402
from bench.dataset import Dataset, DatasetShape, DatasetTarget, add_history, create_catalogue, release_tests  # noqa: E402
from bench.scratch import bench_settings, drop_keyspace, new_keyspace, storage_statements  # noqa: E402
from domain.catalogue.entities import Release  # noqa: E402
from domain.users.entities import Role  # noqa: E402
from infrastructure.settings import load_settings  # noqa: E402
from infrastructure.storage.catalogue_repository import StoreCatalogueRepository  # noqa: E402

ENGINES = ("sqlite", "scylla")
RATIO_LIMIT = 1.5
OPERATIONS = ("dashboard full", "dashboard limited", "test runs limit=10")


@dataclass
class Samples:
    """Times (seconds) and statement counts of one operation at one size."""

    times: list[float] = field(default_factory=list)
    statements: list[float] = field(default_factory=list)


async def _fill(client: AsyncTestClient, args: argparse.Namespace) -> tuple[Dataset, Release, Release]:
    services = client.app.state.services
    target = DatasetTarget(services.catalogue, StoreCatalogueRepository(services.store), services.runs)
    shape = DatasetShape(releases=args.releases, groups=args.groups, tests=args.tests, concurrency=args.concurrency)
    started = time.perf_counter()
    dataset = await create_catalogue(target, shape)
    print(f"  catalogue: {len(dataset.releases)} releases, {len(dataset.groups)} groups, {len(dataset.tests)} tests "
          f"in {time.perf_counter() - started:.0f} s", flush=True)
    small, large = dataset.releases[0], dataset.releases[1]
    for release, runs, seed in ((small, args.small, 1), (large, args.large, 2)):
        started = time.perf_counter()
        tests = release_tests(dataset, release, args.tests_with_runs)
        await add_history(target, dataset, tests, runs, seed=seed, concurrency=args.concurrency)
        print(f"  {release.name}: {len(release_tests(dataset, release))} tests, {len(tests)} with {runs} runs each "
              f"({len(tests) * runs} runs) in {time.perf_counter() - started:.0f} s", flush=True)
    return dataset, small, large


async def _measure(engine: str, args: argparse.Namespace) -> dict[str, dict[int, Samples]]:
    data_dir = tempfile.mkdtemp(prefix="argus-read-bench-")
    keyspace = new_keyspace()
    settings = load_settings(bench_settings(engine, data_dir, keyspace))
    results: dict[str, dict[int, Samples]] = {op: {args.small: Samples(), args.large: Samples()}
                                              for op in OPERATIONS}
    try:
        async with AsyncTestClient(create_app(settings), timeout=120) as client:
            users = client.app.state.services.users
            user = await users.create_user("bench-reader", roles=[Role.USER])
            _, secret = await users.issue_token(user.id, "bench")
            auth = {"Authorization": f"token {secret}"}
            dataset, small, large = await _fill(client, args)
            with_runs = {r.id: [t for t in dataset.tests_with_runs if t.release_id == r.id] for r in (small, large)}

            def request(operation: str, release: Release, index: int) -> tuple[str, dict[str, str]]:
                if operation == "test runs limit=10":
                    tests = with_runs[release.id]
                    return f"/api/v1/test/{tests[index % len(tests)].id}/runs", {"limit": "10"}
                limited = "1" if operation == "dashboard limited" else "0"
                return "/api/v1/release/stats/v2", {"release": release.name, "limited": limited, "force": "0",
                                                    "includeNoVersion": "1"}

            async def timed(operation: str, release: Release, index: int, record: Callable[[float, float], None]
                            ) -> None:
                path, params = request(operation, release, index)
                before, started = storage_statements(), time.perf_counter()
                response = await client.get(path, params=params, headers=auth)
                elapsed = time.perf_counter() - started
                if response.status_code != 200 or response.json().get("status") != "ok":
                    raise RuntimeError(f"{path} {params}: HTTP {response.status_code} {response.text[:300]}")
                record(elapsed, storage_statements() - before)

            for operation in OPERATIONS:  # warm-up: prepared statements, caches, first-use imports
                for release in (small, large):
                    for index in range(3):
                        await timed(operation, release, index, lambda _t, _s: None)
            for index in range(args.iterations):
                for operation in OPERATIONS:
                    for release, runs in ((small, args.small), (large, args.large)):
                        samples = results[operation][runs]
                        await timed(operation, release, index,
                                    lambda t, s, samples=samples: (samples.times.append(t),
                                                                   samples.statements.append(s)))
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
        if engine == "scylla":
            await asyncio.to_thread(drop_keyspace, keyspace)
    return results


def _report(engine: str, results: dict[str, dict[int, Samples]], args: argparse.Namespace) -> bool:
    print(f"\n{engine}: {args.tests_with_runs} tests with history per release, {args.iterations} requests each")
    print(f"  {'operation':<22} {'p50 @' + str(args.small):>10} {'p50 @' + str(args.large):>10} "
          f"{'stmts @' + str(args.small):>10} {'stmts @' + str(args.large):>11} {'ratio':>7}")
    ok = True
    for operation, by_size in results.items():
        small, large = by_size[args.small], by_size[args.large]
        p50_small, p50_large = statistics.median(small.times), statistics.median(large.times)
        ratio = p50_large / p50_small
        ok = ok and ratio < RATIO_LIMIT
        print(f"  {operation:<22} {p50_small * 1000:>8.1f}ms {p50_large * 1000:>8.1f}ms "
              f"{statistics.mean(small.statements):>10.1f} {statistics.mean(large.statements):>11.1f} "
              f"{ratio:>7.2f}{'' if ratio < RATIO_LIMIT else '  <-- over ' + str(RATIO_LIMIT)}")
    return ok


def main() -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    shape = DatasetShape()
    parser.add_argument("--engine", choices=(*ENGINES, "both"), default="both")
    parser.add_argument("--releases", type=int, default=shape.releases)
    parser.add_argument("--groups", type=int, default=shape.groups)
    parser.add_argument("--tests", type=int, default=shape.tests)
    parser.add_argument("--tests-with-runs", type=int, default=100,
                        help="tests of each measured release that get a history")
    parser.add_argument("--small", type=int, default=10, help="runs per test in release 1")
    parser.add_argument("--large", type=int, default=200, help="runs per test in release 2")
    parser.add_argument("--iterations", type=int, default=30)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()
    engines = ENGINES if args.engine == "both" else (args.engine,)
    ok = True
    for engine in engines:
        print(f"{engine}: filling", flush=True)
        results = asyncio.run(_measure(engine, args))
        ok = _report(engine, results, args) and ok
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
