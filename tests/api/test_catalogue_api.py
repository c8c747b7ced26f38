"""Catalogue routes: paths, envelope, field names and caching of the existing service."""

from __future__ import annotations

import uuid

from litestar.testing import AsyncTestClient

RELEASE_FIELDS = {"id", "name", "pretty_name", "description", "github_repo_url", "valid_version_regex", "assignee",
                  "picture_id", "enabled", "perpetual", "dormant"}
GROUP_FIELDS = {"id", "release_id", "name", "pretty_name", "description", "assignee", "build_system_id", "enabled"}
TEST_FIELDS = {"id", "group_id", "release_id", "name", "pretty_name", "description", "assignee", "build_system_id",
               "enabled", "build_system_url", "plugin_name", "plugin_subtype"}


async def _create_tree(client: AsyncTestClient, auth: dict[str, str], name: str) -> dict:
    body = {name: {"groups": {"longevity": {"pretty_name": "Longevity", "tests": ["t-200gb", "t-10gb"]},
                              "artifacts": {"tests": []}}}}
    response = await client.post("/api/v1/release/create", json=body, headers=auth)
    assert response.status_code == 200, response.text
    return response.json()


async def test_create_and_browse_the_catalogue(client: AsyncTestClient, auth: dict[str, str]) -> None:
    created = await _create_tree(client, auth, "scylla-master")
    assert created == {"status": "ok", "response": {"scylla-master": {"groups": {
        "longevity": {"status": "created", "tests": {"t-200gb": "created", "t-10gb": "created"}},
        "artifacts": {"status": "created", "tests": {}}}}}}

    releases = await client.get("/api/v1/releases", headers=auth)
    assert releases.status_code == 200
    assert releases.headers["cache-control"] == "max-age=60"
    [release] = [r for r in releases.json()["response"] if r["name"] == "scylla-master"]
    assert set(release) == RELEASE_FIELDS
    assert release["enabled"] is True and release["assignee"] == []

    groups = (await client.get("/api/v1/groups", params={"releaseId": release["id"]}, headers=auth)).json()
    assert [g["name"] for g in groups["response"]] == ["artifacts", "longevity"]
    longevity = groups["response"][1]
    assert set(longevity) == GROUP_FIELDS
    assert (longevity["pretty_name"], longevity["build_system_id"]) == ("Longevity", "scylla-master/longevity")

    tests = (await client.get("/api/v1/tests", params={"groupId": longevity["id"]}, headers=auth)).json()["response"]
    assert [t["name"] for t in tests] == ["t-10gb", "t-200gb"]
    assert set(tests[0]) == TEST_FIELDS
    assert tests[0]["build_system_id"] == "scylla-master/longevity/t-10gb"

    for path, expected_id in ((f"/api/v1/release/{release['id']}/details", release["id"]),
                              (f"/api/v1/group/{longevity['id']}/details", longevity["id"]),
                              (f"/api/v1/test/{tests[0]['id']}/details", tests[0]["id"])):
        response = await client.get(path, headers=auth)
        assert response.status_code == 200
        assert response.json()["response"]["id"] == expected_id

    info = (await client.get("/api/v1/test-info", params={"testId": tests[1]["id"]}, headers=auth)).json()
    assert info["response"]["test"]["name"] == "t-200gb"
    assert info["response"]["group"]["id"] == longevity["id"]
    assert info["response"]["release"]["id"] == release["id"]


async def test_uuid_forms_are_accepted(client: AsyncTestClient, auth: dict[str, str]) -> None:
    await _create_tree(client, auth, "uuid-forms")
    release = next(r for r in (await client.get("/api/v1/releases", headers=auth)).json()["response"]
                   if r["name"] == "uuid-forms")
    plain = uuid.UUID(release["id"])
    for form in (plain.hex, str(plain).upper()):
        response = await client.get(f"/api/v1/release/{form}/details", headers=auth)
        assert response.status_code == 200, form
        assert response.json()["response"]["id"] == str(plain)


async def test_existing_release_makes_the_whole_request_fail(client: AsyncTestClient, auth: dict[str, str]) -> None:
    await _create_tree(client, auth, "dup-rel")
    response = await client.post("/api/v1/release/create", headers=auth,
                                 json={"brand-new": {"groups": {}}, "dup-rel": {"groups": {}}})
    assert response.status_code == 409
    body = response.json()
    assert body["status"] == "error"
    assert body["response"]["exception"] == "AlreadyExists"
    assert body["response"]["arguments"] == ["Release dup-rel already exists", "dup-rel"]
    names = [r["name"] for r in (await client.get("/api/v1/releases", headers=auth)).json()["response"]]
    assert "brand-new" not in names
