"""Release dashboard routes: the board, its filters and flags, ETag revalidation, versions and images."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
import pytest_asyncio
from litestar.testing import AsyncTestClient

from bench.dataset import Dataset, DatasetShape, DatasetTarget, generate
from domain.catalogue.entities import Test
from domain.runs.entities import TestStatus
from domain.runs.plugins import PluginName
from domain.runs.submission import RunSubmission
from infrastructure.storage.catalogue_repository import StoreCatalogueRepository

STATS = "/api/v1/release/stats/v2"
WIRE_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
STATUSES = ("created", "running", "failed", "test_error", "error", "passed", "aborted", "not_planned", "not_run")
INVESTIGATIONS = ("not_investigated", "in_progress", "investigated", "ignored")
COUNT_FIELDS = {"total", *STATUSES, "lastStatus", "lastInvestigationStatus", *INVESTIGATIONS}
RELEASE_FIELDS = COUNT_FIELDS | {"release", "groups", "disabled", "perpetual", "hasBugReport"}
GROUP_FIELDS = COUNT_FIELDS | {"group", "disabled", "tests"}
TEST_FIELDS = {"test", "status", "investigation_status", "last_runs", "start_time", "hasBugReport", "hasComments",
               "buildNumber", "buildId"}
RUN_FIELDS = {"id", "status", "investigation_status", "start_time", "end_time", "build_number", "build_job_url",
              "assignee", "scylla_version", "image_id"}


def _target(client: AsyncTestClient) -> DatasetTarget:
    services = client.app.state.services
    return DatasetTarget(services.catalogue, StoreCatalogueRepository(services.store), services.runs)


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def dataset(client: AsyncTestClient) -> Dataset:
    shape = DatasetShape(releases=2, groups=4, tests=20, runs_per_test=8, tag=f"api{uuid.uuid4().hex[:6]}")
    return await generate(_target(client), shape)


async def _board(client: AsyncTestClient, auth: dict[str, str], release: str, **params: str) -> dict[str, Any]:
    response = await client.get(STATS, params={"release": release, "limited": "0", "force": "0", **params},
                                headers=auth)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ok"
    return body["response"]


def _shown(dataset: Dataset) -> list[Test]:
    """Tests with runs that the board shows (enabled, in an enabled group)."""
    enabled_groups = {g.id for g in dataset.groups if g.enabled}
    return [t for t in dataset.tests_with_runs if t.enabled and t.group_id in enabled_groups]


def _tiles(board: dict[str, Any]) -> list[dict[str, Any]]:
    return [tile for group in board["groups"].values() for tile in group["tests"].values()]


def _error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status"] == "error"
    return body["response"]


async def test_board_shape_and_counts(client: AsyncTestClient, auth: dict[str, str], dataset: Dataset) -> None:
    release = dataset.releases[0]
    board = await _board(client, auth, release.name, includeNoVersion="1")
    assert set(board) == RELEASE_FIELDS
    assert board["release"]["id"] == str(release.id) and board["perpetual"] is False
    assert board["disabled"] is False and board["hasBugReport"] is False
    enabled_tests = {str(t.id) for t in dataset.tests if t.release_id == release.id and t.enabled}
    tiles = _tiles(board)
    assert {t["test"]["id"] for t in tiles} == enabled_tests
    assert board["total"] == len(enabled_tests) == sum(board[s] for s in STATUSES)
    assert board["total"] == sum(sum(board[i].values()) for i in INVESTIGATIONS)
    for group in board["groups"].values():
        assert set(group) == GROUP_FIELDS and group["disabled"] is False
        assert group["total"] == len(group["tests"]) == sum(group[s] for s in STATUSES)
        for tile in group["tests"].values():
            assert set(tile) == TEST_FIELDS
            assert tile["buildId"] == tile["test"]["build_system_id"]
            assert tile["hasBugReport"] is False and tile["hasComments"] is False
            assert WIRE_TIME.fullmatch(tile["start_time"]) and WIRE_TIME.fullmatch(tile["last_runs"][0]["end_time"])
            assert 1 <= len(tile["last_runs"]) <= 5  # every test of this release has runs
            assert all(set(run) == RUN_FIELDS for run in tile["last_runs"])
            assert tile["buildNumber"] == max(r["build_number"] for r in tile["last_runs"])
    for status in STATUSES:
        assert board[status] == sum(g[status] for g in board["groups"].values())


async def test_limited_drops_last_runs_and_keeps_counts(client: AsyncTestClient, auth: dict[str, str],
                                                        dataset: Dataset) -> None:
    name = dataset.releases[0].name
    full, limited = await _board(client, auth, name), await _board(client, auth, name, limited="1")
    assert all(t["last_runs"] == [] for t in _tiles(limited))
    assert any(t["last_runs"] for t in _tiles(full))
    assert {s: limited[s] for s in STATUSES} == {s: full[s] for s in STATUSES}


async def test_version_and_image_filters(client: AsyncTestClient, auth: dict[str, str], dataset: Dataset) -> None:
    release = dataset.releases[0]
    versions = (await client.get(f"/api/v1/release/{release.id}/versions", headers=auth)).json()["response"]
    images = (await client.get(f"/api/v1/release/{release.id}/images", headers=auth)).json()["response"]
    assert versions == sorted(versions) and len(versions) > 1
    assert images == sorted(images) and images

    exact = versions[-1]
    board = await _board(client, auth, release.name, productVersion=exact)
    assert all(r["scylla_version"] == exact for t in _tiles(board) for r in t["last_runs"])
    prefix = exact.rsplit(".", 1)[0]
    board = await _board(client, auth, release.name, productVersion=prefix)
    assert all(r["scylla_version"].startswith(prefix) for t in _tiles(board) for r in t["last_runs"])
    assert board["not_planned"] < board["total"]

    versionless = await _board(client, auth, release.name, productVersion="!noVersion")
    assert all(r["scylla_version"] is None for t in _tiles(versionless) for r in t["last_runs"])
    without = await _board(client, auth, release.name)
    assert all(r["scylla_version"] is not None for t in _tiles(without) for r in t["last_runs"])
    with_none = await _board(client, auth, release.name, includeNoVersion="1")
    assert sum(len(t["last_runs"]) for t in _tiles(with_none)) >= sum(len(t["last_runs"]) for t in _tiles(without))

    board = await _board(client, auth, release.name, imageId=images[0], includeNoVersion="1")
    runs = [r for t in _tiles(board) for r in t["last_runs"]]
    assert runs and all(r["image_id"] == images[0] for r in runs)


async def test_a_run_write_shows_on_the_next_poll(client: AsyncTestClient, auth: dict[str, str],
                                                  dataset: Dataset) -> None:
    """No snapshot: a status change or a new run in a prefix-filtered version is visible at once."""
    release = dataset.releases[0]
    test = next(t for t in _shown(dataset) if t.release_id == release.id)
    params = {"release": release.name, "limited": "0", "force": "0", "productVersion": "2025.1"}
    first = await client.get(STATS, params=params, headers=auth)
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "no-cache"
    unchanged = await client.get(STATS, params=params, headers={**auth, "If-None-Match": etag})
    assert unchanged.status_code == 304 and unchanged.content == b""

    runs = client.app.state.services.runs
    run_id = uuid.uuid4()
    await runs.submit(PluginName.GENERIC, RunSubmission(
        run_id=run_id, build_id=test.build_system_id, product_version="2025.1.9",
        build_url=f"https://jenkins.example.com/job/{test.build_system_id}/999/"))
    await runs.set_status(PluginName.GENERIC, run_id, TestStatus.FAILED)
    changed = await client.get(STATS, params=params, headers={**auth, "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    tile = next(t for t in _tiles(changed.json()["response"]) if t["test"]["id"] == str(test.id))
    assert (tile["status"], tile["buildNumber"], tile["last_runs"][0]["id"]) == ("failed", 999, str(run_id))
    versions = (await client.get(f"/api/v1/release/{release.id}/versions", headers=auth)).json()["response"]
    assert "2025.1.9" in versions


async def test_reruns_of_the_tracked_build_collapse_to_the_worst(client: AsyncTestClient, auth: dict[str, str],
                                                                 dataset: Dataset) -> None:
    release = dataset.releases[1]
    test = next(t for t in _shown(dataset) if t.release_id == release.id)
    runs = client.app.state.services.runs
    build_url = f"https://jenkins.example.com/job/{test.build_system_id}/5000/"
    for status in (TestStatus.ABORTED, TestStatus.PASSED):  # the newer rerun passed, the older one aborted
        run_id = uuid.uuid4()
        await runs.submit(PluginName.GENERIC, RunSubmission(run_id=run_id, build_id=test.build_system_id,
                                                            product_version="2025.2.1", build_url=build_url))
        await runs.set_status(PluginName.GENERIC, run_id, status)
    board = await _board(client, auth, release.name)
    tile = next(t for t in _tiles(board) if t["test"]["id"] == str(test.id))
    assert (tile["status"], tile["buildNumber"]) == ("aborted", 5000)


async def test_release_without_runs_or_groups(client: AsyncTestClient, auth: dict[str, str]) -> None:
    catalogue = client.app.state.services.catalogue
    quiet = await catalogue.create_release(f"quiet-{uuid.uuid4().hex[:6]}")
    group = await catalogue.create_group(quiet.id, "longevity")
    for name in ("a", "b"):
        await catalogue.create_test(group.id, name, build_system_id=f"{quiet.name}/longevity/{name}")
    board = await _board(client, auth, quiet.name, includeNoVersion="1")
    assert (board["total"], board["not_planned"], board["lastStatus"]) == (2, 2, "not_planned")
    assert board["not_investigated"]["not_planned"] == 2
    assert all(t["status"] == "not_planned" and t["buildNumber"] is None and t["start_time"] is None
               for t in _tiles(board))
    for facet in ("versions", "images"):
        response = await client.get(f"/api/v1/release/{quiet.id}/{facet}", headers=auth)
        assert response.json() == {"status": "ok", "response": []}

    empty = await catalogue.create_release(f"empty-{uuid.uuid4().hex[:6]}")
    board = await _board(client, auth, empty.name)
    assert (board["total"], board["groups"]) == (0, {})


async def test_dormant_release_answers_dormant_unless_forced(client: AsyncTestClient, auth: dict[str, str],
                                                             dataset: Dataset) -> None:
    release = dataset.releases[1]
    release.dormant = True
    repository = StoreCatalogueRepository(client.app.state.services.store)
    await repository.save_release(release)
    try:
        assert await _board(client, auth, release.name) == {"dormant": True}
        forced = await _board(client, auth, release.name, force="1")
        assert forced["release"]["dormant"] is True and forced["total"] > 0
    finally:
        release.dormant = False
        await repository.save_release(release)


async def test_unknown_release_is_404(client: AsyncTestClient, auth: dict[str, str]) -> None:
    response = await client.get(STATS, params={"release": "no-such-release", "limited": "0", "force": "0"},
                                headers=auth)
    assert _error(response, 404)["exception"] == "NotFound"
    for facet in ("versions", "images"):
        _error(await client.get(f"/api/v1/release/{uuid.uuid4()}/{facet}", headers=auth), 404)


@pytest.mark.parametrize("params", [
    {"limited": "0", "force": "0"},  # no release
    {"release": "x", "force": "0"},  # no limited
    {"release": "x", "limited": "0"},  # no force
    {"release": "x", "limited": "2", "force": "0"},
    {"release": "x", "limited": "0", "force": "yes"},
    {"release": "x", "limited": "0", "force": "0", "includeNoVersion": "true"},
    {"release": "", "limited": "0", "force": "0"},
    {"release": "x", "limited": "0", "force": "0", "productVersion": "9" * 501},
])
async def test_malformed_parameters_are_400(client: AsyncTestClient, auth: dict[str, str],
                                            params: dict[str, str]) -> None:
    _error(await client.get(STATS, params=params, headers=auth), 400)


async def test_malformed_release_id_is_400(client: AsyncTestClient, auth: dict[str, str]) -> None:
    for facet in ("versions", "images"):
        assert "release id" in _error(await client.get(f"/api/v1/release/not-a-uuid/{facet}", headers=auth),
                                      400)["message"]


async def test_login_is_required(client: AsyncTestClient, dataset: Dataset) -> None:
    response = await client.get(STATS, params={"release": dataset.releases[0].name, "limited": "0", "force": "0"})
    assert response.status_code == 403
    assert (await client.get(f"/api/v1/release/{dataset.releases[0].id}/versions")).status_code == 403
