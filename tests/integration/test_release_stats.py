"""The release dashboard on every engine equals a brute-force recount over the raw runs.

The dataset comes from ``bench/dataset.py`` (the same generator the benchmark uses), written through
the real services. The recount below reads the catalogue and every run straight from the tables and
applies the board's rules in its own way, sharing no code with ``domain/stats``.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter, defaultdict
from typing import Any

import pytest

from bench.dataset import Dataset, DatasetShape, DatasetTarget, generate
from domain.catalogue.service import CatalogueService
from domain.clock import SystemClock
from domain.runs.service import AutoCreate, RunService
from domain.stats.entities import DormantRelease, ReleaseStats, StatsFilter
from domain.stats.service import ReleaseStatsService
from infrastructure.storage import tables
from infrastructure.storage.catalogue_repository import StoreCatalogueRepository
from infrastructure.storage.release_facet_repository import StoreReleaseFacetRepository
from infrastructure.storage.run_repository import StoreRunRepository, StoreSummaryRepository
from infrastructure.storage.store import TableStore

WINDOW = 15
SEVERITY = {"failed": 10, "test_error": 10, "aborted": 9, "running": 8, "created": 7, "passed": 6}
STATUSES = ("created", "running", "failed", "test_error", "error", "passed", "aborted", "not_planned", "not_run")
INVESTIGATIONS = ("not_investigated", "in_progress", "investigated", "ignored")


async def _dataset(engine: TableStore, **shape: Any) -> tuple[Dataset, ReleaseStatsService]:
    catalogue_repository = StoreCatalogueRepository(engine)
    summaries = StoreSummaryRepository(engine, StoreReleaseFacetRepository(engine))
    runs = RunService(StoreRunRepository(engine, 16), summaries, CatalogueService(catalogue_repository),
                      SystemClock(), AutoCreate.OFF)
    target = DatasetTarget(CatalogueService(catalogue_repository), catalogue_repository, runs)
    dataset = await generate(target, DatasetShape(tag=f"t{uuid.uuid4().hex[:8]}", concurrency=16, **shape))
    return dataset, ReleaseStatsService(catalogue_repository, summaries, StoreReleaseFacetRepository(engine))


def _image(row: dict[str, Any]) -> str | None:
    details = json.loads(row["details"] or "{}")
    return (((details.get("cloud_setup") or {}).get("db_node")) or {}).get("image_id")


def _kept(row: dict[str, Any], product_version: str | None, include_no_version: bool, image_id: str | None) -> bool:
    version = row["scylla_version"]
    if image_id and _image(row) != image_id:
        return False
    if product_version == "!noVersion":
        return not version
    if not version:
        return include_no_version
    return not product_version or version[:len(product_version)] == product_version


async def _recount(engine: TableStore, release_id: uuid.UUID, product_version: str | None = None,
                   include_no_version: bool = False, image_id: str | None = None) -> dict[str, Any]:
    """Tile per test and counts per group and release, from the raw tables."""
    groups = (await engine.select(tables.groups, {"release_id": release_id}, limit=10_000)).rows
    result: dict[str, Any] = {"tiles": {}, "groups": {}, "release": Counter(), "matrix": defaultdict(Counter)}
    for group in groups:
        if not group["enabled"]:
            continue
        counts: Counter[str] = Counter()
        for test in (await engine.select(tables.tests, {"group_id": group["id"]}, limit=10_000)).rows:
            if not test["enabled"]:
                continue
            rows = (await engine.select(tables.runs, {"build_id": test["build_system_id"]}, limit=100_000)).rows
            rows.sort(key=lambda r: (r["start_time"], r["id"]), reverse=False)
            newest = list(reversed(rows))[:WINDOW]  # the partition is newest first; re-sorted independently
            kept = [r for r in newest if _kept(r, product_version, include_no_version, image_id)]
            if not kept:
                tile = ("not_planned", "not_investigated", None)
            else:
                with_number = [r for r in kept if r["build_number"] is not None]
                if with_number:
                    top = sorted(with_number, key=lambda r: -r["build_number"])[0]["build_number"]
                    same = [r for r in kept if r["build_number"] == top]
                    worst = same[0]
                    for candidate in same[1:]:
                        if SEVERITY.get(candidate["status"], 0) > SEVERITY.get(worst["status"], 0):
                            worst = candidate
                else:
                    worst = kept[0]
                tile = (worst["status"], worst["investigation_status"], worst["build_number"])
            result["tiles"][str(test["id"])] = tile
            counts[tile[0]] += 1
            result["release"][tile[0]] += 1
            result["matrix"][tile[1]][tile[0]] += 1
        result["groups"][str(group["id"])] = counts
    return result


def _board_view(board: ReleaseStats) -> dict[str, Any]:
    tiles = {tid: (t.status.value, t.investigation_status.value, t.build_number)
             for g in board.groups.values() for tid, t in g.tests.items()}
    groups = {gid: Counter({s: getattr(g, s) for s in STATUSES if getattr(g, s)}) for gid, g in board.groups.items()}
    release = Counter({s: getattr(board, s) for s in STATUSES if getattr(board, s)})
    matrix = {i: Counter({s: n for s, n in getattr(board, i).items() if n}) for i in INVESTIGATIONS}
    return {"tiles": tiles, "groups": groups, "release": release, "matrix": matrix}


def _recount_view(recount: dict[str, Any]) -> dict[str, Any]:
    return {**recount, "matrix": {i: recount["matrix"].get(i, Counter()) for i in INVESTIGATIONS}}


@pytest.fixture
def shape() -> dict[str, Any]:
    # 18 runs per test: more than the 15-run window, so runs leaving the window are exercised too; many
    # reruns, so tracked builds with several runs (collapsed to the most urgent) are common.
    return {"releases": 2, "groups": 4, "tests": 24, "runs_per_test": 18, "rerun_share": 0.5}


async def test_board_equals_a_recount_over_raw_runs(engine: TableStore, shape: dict[str, Any]) -> None:
    dataset, stats = await _dataset(engine, **shape)
    release = dataset.releases[0]
    versions = await stats.versions(release.id)
    images = await stats.images(release.id)
    assert versions and images  # the indexes were filled on write
    filters = [StatsFilter(), StatsFilter(include_no_version=True), StatsFilter(product_version="!noVersion"),
               StatsFilter(product_version=versions[0][:6]), StatsFilter(product_version=versions[-1]),
               StatsFilter(image_id=images[0], include_no_version=True)]
    for stats_filter in filters:
        board = await stats.board(release.name, stats_filter, limited=False, force=False)
        assert isinstance(board, ReleaseStats)
        recount = await _recount(engine, release.id, stats_filter.product_version, stats_filter.include_no_version,
                                 stats_filter.image_id)
        view = _board_view(board)
        assert view == _recount_view(recount), stats_filter
        assert board.total == sum(recount["release"].values())
    # The unfiltered board of a dataset this size has every kind of tile somewhere.
    plain = _board_view(await stats.board(release.name, StatsFilter(include_no_version=True), limited=True,
                                          force=False))
    assert {"passed", "failed"} <= set(plain["release"])


async def test_versions_and_images_are_what_the_runs_reported(engine: TableStore) -> None:
    dataset, stats = await _dataset(engine, releases=1, groups=2, tests=6, runs_per_test=4)
    release = dataset.releases[0]
    reported_versions: set[str] = set()
    reported_images: set[str] = set()
    for test in dataset.tests_with_runs:
        for row in (await engine.select(tables.runs, {"build_id": test.build_system_id}, limit=100)).rows:
            reported_versions |= {row["scylla_version"]} - {None}
            reported_images |= {_image(row)} - {None}
    assert await stats.versions(release.id) == sorted(reported_versions)
    assert await stats.images(release.id) == sorted(reported_images)


async def test_dormant_release_and_missing_release(engine: TableStore) -> None:
    dataset, stats = await _dataset(engine, releases=1, groups=1, tests=2, runs_per_test=1)
    release = dataset.releases[0]
    release.dormant = True
    await StoreCatalogueRepository(engine).save_release(release)
    assert isinstance(await stats.board(release.name, StatsFilter(), limited=True, force=False), DormantRelease)
    forced = await stats.board(release.name, StatsFilter(include_no_version=True), limited=True, force=True)
    assert isinstance(forced, ReleaseStats) and forced.total == 2
