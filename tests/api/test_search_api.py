"""``/api/v1/planning/search``: names, facets, release scope, run ids, bounds and freshness after writes."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from tests.api.test_run_browse_api import record_example, sct_run

SEARCH = "/api/v1/planning/search"


@pytest.fixture(scope="module")
def tag() -> str:
    """A word unique to this module's catalogue, so other modules' entries never match."""
    return uuid.uuid4().hex[:8]


async def _search(client: AsyncTestClient, auth: dict[str, str], query: str, **params: Any) -> dict[str, Any]:
    response = await client.get(SEARCH, params={"query": query, **params}, headers=auth)
    assert response.status_code == 200, response.text
    return response.json()["response"]


def _names(answer: dict[str, Any]) -> list[tuple[str, str]]:
    return [(hit["type"], hit["name"]) for hit in answer["hits"]]


@pytest.fixture(scope="module")
async def catalogue(client: AsyncTestClient, token: str, tag: str) -> dict[str, str]:
    """Two releases with a longevity group each; created through the release/create route."""
    auth = {"Authorization": f"token {token}"}
    body = {f"master-{tag}": {"pretty_name": f"Master {tag}", "groups": {
                "longevity": {"pretty_name": "Longevity", "tests": [f"longevity-{tag}-1tb", f"longevity-{tag}-50gb"]},
                "artifacts": {"tests": [f"artifacts-{tag}-centos"]}}},
            f"enterprise-{tag}": {"groups": {"longevity": {"tests": [f"longevity-{tag}-1tb"]}}}}
    response = await client.post("/api/v1/release/create", json=body, headers=auth)
    assert response.status_code == 200, response.text
    releases = (await client.get("/api/v1/releases", headers=auth)).json()["response"]
    return {r["name"]: r["id"] for r in releases if tag in r["name"]}


async def test_free_text_matches_names_of_every_kind(client: AsyncTestClient, auth: dict[str, str], tag: str,
                                                     catalogue: dict[str, str]) -> None:
    answer = await _search(client, auth, f"LONGEVITY-{tag}")
    assert answer["total"] == 3
    assert _names(answer) == [("test", f"longevity-{tag}-1tb"), ("test", f"longevity-{tag}-1tb"),
                              ("test", f"longevity-{tag}-50gb")]
    hit = answer["hits"][0]
    assert hit["release"]["name"] in catalogue and hit["group"]["name"] == "longevity"
    assert hit["build_system_id"].endswith(f"/longevity/longevity-{tag}-1tb")

    releases = await _search(client, auth, tag)
    assert [kind for kind, _ in _names(releases)][:2] == ["release", "release"]
    record_example("search-text", {"status": "ok", "response": {
        "hits": [releases["hits"][0], next(h for h in releases["hits"] if h["type"] == "test")],
        "total": releases["total"]}})
    # pretty_name matches too
    assert _names(await _search(client, auth, f"master {tag}")) == [("release", f"master-{tag}")]


async def test_facets_narrow_by_release_group_and_type(client: AsyncTestClient, auth: dict[str, str], tag: str,
                                                       catalogue: dict[str, str]) -> None:
    scoped = await _search(client, auth, f"release:enterprise-{tag} longevity")
    assert _names(scoped) == [("group", "longevity"), ("test", f"longevity-{tag}-1tb")]
    assert scoped["hits"][1]["release"]["name"] == f"enterprise-{tag}"

    groups = await _search(client, auth, f"type:group release:{tag}")
    assert sorted(_names(groups)) == [("group", "artifacts"), ("group", "longevity"), ("group", "longevity")]
    in_group = await _search(client, auth, f"group:artifacts release:master-{tag}")
    assert _names(in_group) == [("group", "artifacts"), ("test", f"artifacts-{tag}-centos")]
    two_types = await _search(client, auth, f"Type:Release type:TEST {tag} release:master-{tag}")
    assert [kind for kind, _ in _names(two_types)] == ["release", "test", "test", "test"]
    record_example("search-facets", {"status": "ok", "response": scoped})


async def test_release_id_scopes_the_search(client: AsyncTestClient, auth: dict[str, str], tag: str,
                                            catalogue: dict[str, str]) -> None:
    answer = await _search(client, auth, "1tb", releaseId=catalogue[f"enterprise-{tag}"])
    assert _names(answer) == [("test", f"longevity-{tag}-1tb")]
    assert answer["hits"][0]["release_id"] == catalogue[f"enterprise-{tag}"]
    assert (await _search(client, auth, "", releaseId=str(uuid.uuid4()))) == {"hits": [], "total": 0}


async def test_a_pasted_id_finds_the_run_and_its_catalogue(client: AsyncTestClient, auth: dict[str, str],
                                                           tag: str, catalogue: dict[str, str]) -> None:
    job = f"master-{tag}/longevity/longevity-{tag}-1tb"
    run_id = await sct_run(client, auth, job, 42)
    answer = await _search(client, auth, f" {run_id.upper()} ")
    assert answer["total"] == 1
    [hit] = answer["hits"]
    assert (hit["type"], hit["id"], hit["build_number"]) == ("run", run_id, 42)
    assert hit["test"]["build_system_id"] == job and hit["group"]["name"] == "longevity"
    assert hit["release"]["id"] == catalogue[f"master-{tag}"]
    record_example("search-run", {"status": "ok", "response": answer})
    other_release = await _search(client, auth, run_id, releaseId=catalogue[f"enterprise-{tag}"])
    assert other_release == {"hits": [], "total": 0}
    assert (await _search(client, auth, str(uuid.uuid4()))) == {"hits": [], "total": 0}
    release_by_id = await _search(client, auth, catalogue[f"enterprise-{tag}"])
    assert _names(release_by_id) == [("release", f"enterprise-{tag}")]


async def test_hits_are_bounded_and_fresh_after_writes(client: AsyncTestClient, auth: dict[str, str],
                                                       tag: str) -> None:
    many = f"many-{tag}"
    body = {many: {"groups": {"bulk": {"tests": [f"bulk-{i:03d}" for i in range(120)]}}}}
    assert (await client.post("/api/v1/release/create", json=body, headers=auth)).status_code == 200
    answer = await _search(client, auth, f"release:{many} bulk-")
    assert answer["total"] == 120 and len(answer["hits"]) == 100
    assert answer["hits"][0]["name"] == "bulk-000"

    # A test created afterwards (here by a CI job reporting a new build id) is found at once.
    await sct_run(client, auth, f"{many}/bulk/late-arrival", 1)
    assert _names(await _search(client, auth, f"late-arrival release:{many}")) == [("test", "late-arrival")]


async def test_empty_queries_and_no_match(client: AsyncTestClient, auth: dict[str, str], tag: str) -> None:
    assert await _search(client, auth, f"nothing-is-called-{tag}") == {"hits": [], "total": 0}
    everything = await _search(client, auth, "")
    assert everything["total"] >= len(everything["hits"]) and len(everything["hits"]) <= 100


@pytest.mark.parametrize("params", [{"query": "type:run"}, {"query": "type:plan"}, {"query": "x" * 501},
                                    {"query": "x", "releaseId": "not-a-uuid"}])
async def test_malformed_searches_are_400(client: AsyncTestClient, auth: dict[str, str],
                                          params: dict[str, str]) -> None:
    response = await client.get(SEARCH, params=params, headers=auth)
    assert response.status_code == 400, response.text
    assert response.json()["status"] == "error"


async def test_search_needs_a_login(client: AsyncTestClient) -> None:
    assert (await client.get(SEARCH, params={"query": "x"})).status_code == 403
