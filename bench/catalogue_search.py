"""How long the search box takes over a catalogue of realistic size, on each engine.

Builds ``--releases`` x ``--groups`` x ``--tests`` entries through the catalogue repository (a
temporary SQLite file; for scylla a throw-away keyspace ``bench_<hex>``, dropped at the end), then
times, through ``CatalogueSearch`` as the route uses it:

- a cold search (the snapshot is built: one scan of releases, one partition read per release and per group),
- warm searches (the cached snapshot: one single-row read of the catalogue version per search),
- a search right after a catalogue write (the write bumps the version, so the snapshot is rebuilt).

It prints the numbers and the ratio cold/warm; it has no thresholds and is not a test.

    .venv/bin/python bench/catalogue_search.py                    # both engines, 10 x 20 x 10 = 2000 tests
    .venv/bin/python bench/catalogue_search.py --engine sqlite --tests 50
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.scratch import scratch_store
from domain.catalogue.entities import Group, Release, Test
from domain.catalogue.search import CatalogueSearch
from domain.concurrency import bounded_gather
from infrastructure.storage.catalogue_repository import StoreCatalogueRepository
from infrastructure.storage.catalogue_snapshot import CachedCatalogueSnapshots
from infrastructure.storage.run_repository import StoreRunRepository

QUERIES = ("longevity", "release:rel-3 group:grp-07 test-05", "type:group grp-1", "no-such-name", "")


async def fill(repo: StoreCatalogueRepository, releases: int, groups: int, tests: int) -> int:
    """The catalogue tree; returns the number of tests."""
    count = 0
    for r in range(releases):
        release = Release(id=uuid.uuid4(), name=f"rel-{r}", pretty_name=f"Release {r}")
        await repo.add_release(release)
        group_list = [Group(id=uuid.uuid4(), release_id=release.id, name=f"grp-{g:02d}") for g in range(groups)]
        await bounded_gather((repo.add_group(g) for g in group_list), 32)
        test_list = [Test(id=uuid.uuid4(), group_id=g.id, release_id=release.id,
                          name=f"{'longevity' if t % 3 == 0 else 'artifacts'}-test-{t:02d}",
                          build_system_id=f"rel-{r}/{g.name}/test-{t:02d}")
                     for g in group_list for t in range(tests)]
        await bounded_gather((repo.add_test(t) for t in test_list), 32)
        count += len(test_list)
    return count


async def measure(engine: str, args: argparse.Namespace) -> None:
    async with scratch_store(engine) as (settings, store):
        repo = StoreCatalogueRepository(store)
        total = await fill(repo, args.releases, args.groups, args.tests)
        snapshots = CachedCatalogueSnapshots(store, repo, settings.storage.max_concurrency)
        search = CatalogueSearch(snapshots, StoreRunRepository(store, settings.storage.max_concurrency))

        started = time.perf_counter()
        first = await search.search(QUERIES[0])
        cold = time.perf_counter() - started
        warm = []
        for _ in range(args.repeat):
            for query in QUERIES:
                started = time.perf_counter()
                await search.search(query)
                warm.append(time.perf_counter() - started)
        release = (await repo.list_releases())[0]
        await repo.save_release(release)  # any write bumps the version
        started = time.perf_counter()
        await search.search(QUERIES[1])
        after_write = time.perf_counter() - started
        print(f"{engine}: {total} tests, {args.releases} releases x {args.groups} groups; "
              f"first query {first.total} hits")
        print(f"  cold search (snapshot build): {cold * 1000:.1f} ms")
        print(f"  warm search: p50 {statistics.median(warm) * 1000:.2f} ms, max {max(warm) * 1000:.2f} ms "
              f"over {len(warm)} searches")
        print(f"  search after a catalogue write (rebuild): {after_write * 1000:.1f} ms")
        print(f"  ratio cold / warm p50 = {cold / statistics.median(warm):.0f}; "
              f"snapshot rebuilds: {snapshots.rebuilds}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=("sqlite", "scylla", "both"), default="both")
    parser.add_argument("--releases", type=int, default=10)
    parser.add_argument("--groups", type=int, default=20, help="groups per release")
    parser.add_argument("--tests", type=int, default=10, help="tests per group")
    parser.add_argument("--repeat", type=int, default=20, help="rounds of the warm queries")
    args = parser.parse_args()
    for engine in ("sqlite", "scylla") if args.engine == "both" else (args.engine,):
        asyncio.run(measure(engine, args))


if __name__ == "__main__":
    main()
