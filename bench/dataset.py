"""Fill a storage engine with a realistic catalogue and run history, through the real services.

The catalogue mirrors a busy Argus: releases split into groups, groups into tests (by default 5
releases, 60 groups, 2,000 tests), a few disabled tests and groups, and the plugins mixed as the real
service sees them (mostly SCT, then generic, driver-matrix and sirenada). Each test given a history
gets ``runs_per_test`` runs, one after another as CI would report them: submitted with a build URL
(increasing Jenkins build numbers, about one build in ten re-run under the same number), a version
like ``2025.1.3`` (a few runs report none), SCT runs with the DB image of their cloud setup, then a
final status (the newest run sometimes still running) and for some failures an investigation
status. Every write goes through ``RunService``, so test summaries and the release version and
image indexes are maintained exactly as in production.

As a library (the tests and ``bench/read_side.py`` use it): ``await generate(DatasetTarget(...),
DatasetShape(...))``. As a script, it fills the engine the usual settings name::

    ARGUS_STORAGE_ENGINE=scylla .venv/bin/python bench/dataset.py --runs-per-test 10 --tests-with-runs 400
    .venv/bin/python bench/dataset.py --data-dir /tmp/argus-data          # sqlite (the default engine)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(REPO))

from domain.catalogue.entities import Group, Release, Test  # noqa: E402
from domain.catalogue.ports import CatalogueRepository  # noqa: E402
from domain.catalogue.service import CatalogueService  # noqa: E402
from domain.concurrency import bounded_gather  # noqa: E402
from domain.runs.entities import InvestigationStatus, TestStatus  # noqa: E402
from domain.runs.plugins import PluginName  # noqa: E402
from domain.runs.service import RunService  # noqa: E402
from domain.runs.submission import RunSubmission  # noqa: E402
from domain.sct.config_fields import derived_fields  # noqa: E402

# Plugin mix of the tests, and the final statuses of finished runs, weighted as a busy release looks.
PLUGIN_WEIGHTS = {PluginName.SCT: 60, PluginName.GENERIC: 25, PluginName.DRIVER_MATRIX: 10, PluginName.SIRENADA: 5}
FINAL_STATUS_WEIGHTS = {TestStatus.PASSED: 66, TestStatus.FAILED: 15, TestStatus.TEST_ERROR: 6,
                        TestStatus.ABORTED: 6, TestStatus.ERROR: 3, TestStatus.RUNNING: 4}
INVESTIGATION_WEIGHTS = {InvestigationStatus.NOT_INVESTIGATED: 55, InvestigationStatus.IN_PROGRESS: 20,
                         InvestigationStatus.INVESTIGATED: 20, InvestigationStatus.IGNORED: 5}
NO_VERSION_SHARE = 0.05
DISABLED_TEST_SHARE = 0.03
BACKENDS = ("aws", "aws", "aws", "gce")


@dataclass(frozen=True)
class DatasetShape:
    """How big the catalogue and the history are."""

    releases: int = 5
    groups: int = 60  # over all releases
    tests: int = 2000  # over all releases
    runs_per_test: int = 10
    # Tests of the first release that get a history (None: every test of every release).
    tests_with_runs: int | None = None
    tag: str = "bench"  # prefixes release names, so several datasets can share a database
    rerun_share: float = 0.1  # builds run again under the same build number
    seed: int = 7
    concurrency: int = 32


@dataclass(frozen=True)
class DatasetTarget:
    """The services the generator writes through."""

    catalogue: CatalogueService
    catalogue_repository: CatalogueRepository
    runs: RunService


@dataclass
class Dataset:
    """What was generated: the catalogue, and which tests have runs."""

    releases: list[Release] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)
    tests: list[Test] = field(default_factory=list)
    tests_with_runs: list[Test] = field(default_factory=list)
    runs: int = 0


def _spread(total: int, parts: int) -> list[int]:
    """``total`` split into ``parts`` near-equal counts."""
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


async def create_catalogue(target: DatasetTarget, shape: DatasetShape) -> Dataset:
    """Releases, groups and tests, created through the catalogue service; no runs yet."""
    rng = random.Random(shape.seed)
    dataset = Dataset()
    group_counts = _spread(shape.groups, shape.releases)
    test_counts = _spread(shape.tests, shape.groups)
    group_index = 0
    for r in range(shape.releases):
        release = await target.catalogue.create_release(f"{shape.tag}-{2025 + r // 2}.{r % 2 + 1}",
                                                        pretty_name=f"Release {r + 1}")
        dataset.releases.append(release)
        groups = await bounded_gather((target.catalogue.create_group(
            release.id, f"group-{g:02d}", pretty_name=f"Group {g}", build_system_id=f"{release.name}/group-{g:02d}")
            for g in range(group_counts[r])), shape.concurrency)
        dataset.groups.extend(groups)
        specs = []
        for group in groups:
            specs.extend((group, t) for t in range(test_counts[group_index]))
            group_index += 1
        tests = await bounded_gather((target.catalogue.create_test(
            group.id, f"test-{t:03d}", build_system_id=f"{group.build_system_id}/test-{t:03d}",
            pretty_name=f"{group.name} test {t}") for group, t in specs), shape.concurrency)
        dataset.tests.extend(tests)
    # A few tests, and the last group, are switched off, as in a real catalogue.
    for test in dataset.tests:
        if rng.random() < DISABLED_TEST_SHARE:
            test.enabled = False
            await target.catalogue_repository.save_test(test)
    if len(dataset.groups) > 1:
        dataset.groups[-1].enabled = False
        await target.catalogue_repository.save_group(dataset.groups[-1])
    return dataset


def _sct_config(rng: random.Random, images: list[str]) -> dict[str, Any]:
    backend = rng.choice(BACKENDS)
    image = rng.choice(images)
    config: dict[str, Any] = {"cluster_backend": backend, "n_db_nodes": rng.choice((3, 4, 6)), "n_loaders": 1,
                              "n_monitor_nodes": 1, "stress_duration": rng.choice((60, 180, 720)),
                              "test_method": "longevity_test.LongevityTest.test_custom_time"}
    if backend == "gce":
        config.update(gce_image_db=f"https://www.googleapis.com/compute/v1/projects/scylla/global/images/{image}",
                      gce_datacenter="us-east1", gce_instance_type_db="n2-highmem-16")
    else:
        config.update(ami_id_db_scylla=image, region_name="eu-west-1", instance_type_db="i4i.4xlarge")
    return config


async def _history(target: DatasetTarget, test: Test, plugin: PluginName, runs: int, rerun_share: float,
                   versions: list[str], images: list[str], rng: random.Random) -> None:
    build_number = 0
    for index in range(runs):
        if build_number == 0 or rng.random() >= rerun_share:
            build_number += 1
        version = None if rng.random() < NO_VERSION_SHARE else rng.choice(versions)
        run_id = uuid.uuid4()
        details = derived_fields(_sct_config(rng, images)) if plugin is PluginName.SCT else {}
        await target.runs.submit(plugin, RunSubmission(
            run_id=run_id, build_id=test.build_system_id, product_version=version, details=details,
            build_url=f"https://jenkins.example.com/job/{test.build_system_id.replace('/', '/job/')}/{build_number}/",
            started_by="jenkins"))
        newest = index == runs - 1
        status = rng.choices(list(FINAL_STATUS_WEIGHTS), weights=list(FINAL_STATUS_WEIGHTS.values()))[0]
        if status is TestStatus.RUNNING and not newest:
            status = TestStatus.ABORTED  # only the newest run can still be going
        await target.runs.set_status(plugin, run_id, status)
        if status in (TestStatus.FAILED, TestStatus.TEST_ERROR, TestStatus.ERROR):
            investigation = rng.choices(list(INVESTIGATION_WEIGHTS), weights=list(INVESTIGATION_WEIGHTS.values()))[0]
            if investigation is not InvestigationStatus.NOT_INVESTIGATED:
                stored = await target.runs.require(plugin, run_id)
                await target.runs.apply(stored, {"investigation_status": investigation})


async def add_history(target: DatasetTarget, dataset: Dataset, tests: list[Test], runs_per_test: int, *,
                      seed: int, concurrency: int, rerun_share: float = DatasetShape.rerun_share) -> None:
    """Give each of ``tests`` ``runs_per_test`` runs, tests concurrently, each test's runs in order."""
    rng = random.Random(seed)
    release_names = {r.id: r.name for r in dataset.releases}
    plans = []
    for test in tests:
        year, minor = release_names[test.release_id].rsplit("-", 1)[1].split(".")
        versions = [f"{year}.{minor}.{patch}" for patch in range(4)] + [f"{year}.{minor}.0~rc{rc}" for rc in (1, 2)]
        images = [f"ami-{year}{minor}{n:02d}{'abcdef'[n]}0f" for n in range(3)]
        plugin = rng.choices(list(PLUGIN_WEIGHTS), weights=list(PLUGIN_WEIGHTS.values()))[0]
        plans.append((test, plugin, versions, images, random.Random(rng.random())))
    await bounded_gather((_history(target, test, plugin, runs_per_test, rerun_share, versions, images, test_rng)
                          for test, plugin, versions, images, test_rng in plans), concurrency)
    dataset.tests_with_runs.extend(tests)
    dataset.runs += len(tests) * runs_per_test


def release_tests(dataset: Dataset, release: Release, count: int | None = None) -> list[Test]:
    """The first ``count`` tests of ``release`` (all of them by default), in creation order."""
    tests = [t for t in dataset.tests if t.release_id == release.id]
    return tests if count is None else tests[:count]


async def generate(target: DatasetTarget, shape: DatasetShape) -> Dataset:
    """Create the catalogue, then the run histories, and say what was made."""
    dataset = await create_catalogue(target, shape)
    chosen = (dataset.tests if shape.tests_with_runs is None
              else release_tests(dataset, dataset.releases[0], shape.tests_with_runs))
    await add_history(target, dataset, chosen, shape.runs_per_test, seed=shape.seed + 1,
                      concurrency=shape.concurrency, rerun_share=shape.rerun_share)
    return dataset


async def _main(args: argparse.Namespace) -> None:
    from infrastructure.composition import open_services
    from infrastructure.settings import load_settings
    from infrastructure.storage.catalogue_repository import StoreCatalogueRepository

    overrides = {"ARGUS_STORAGE_DATA_DIR": args.data_dir} if args.data_dir else {}
    settings = load_settings({**os.environ, **overrides})
    shape = DatasetShape(releases=args.releases, groups=args.groups, tests=args.tests,
                         runs_per_test=args.runs_per_test, tests_with_runs=args.tests_with_runs, tag=args.tag,
                         seed=args.seed, concurrency=args.concurrency)
    started = time.perf_counter()
    async with open_services(settings) as services:
        target = DatasetTarget(services.catalogue, StoreCatalogueRepository(services.store), services.runs)
        dataset = await generate(target, shape)
    print(f"{services.store.engine}: {len(dataset.releases)} releases, {len(dataset.groups)} groups, "
          f"{len(dataset.tests)} tests, {dataset.runs} runs on {len(dataset.tests_with_runs)} tests "
          f"in {time.perf_counter() - started:.1f} s")


def main() -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    shape = DatasetShape()
    parser.add_argument("--releases", type=int, default=shape.releases)
    parser.add_argument("--groups", type=int, default=shape.groups)
    parser.add_argument("--tests", type=int, default=shape.tests)
    parser.add_argument("--runs-per-test", type=int, default=shape.runs_per_test)
    parser.add_argument("--tests-with-runs", type=int, default=None,
                        help="only this many tests of the first release get runs (default: every test)")
    parser.add_argument("--tag", default=shape.tag, help="release name prefix")
    parser.add_argument("--seed", type=int, default=shape.seed)
    parser.add_argument("--concurrency", type=int, default=shape.concurrency)
    parser.add_argument("--data-dir", help="SQLite data directory (ARGUS_STORAGE_DATA_DIR)")
    asyncio.run(_main(parser.parse_args()))


if __name__ == "__main__":
    main()
