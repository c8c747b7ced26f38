"""Version, health, readiness, OpenAPI, compression and the route access table."""

from __future__ import annotations

from litestar.testing import AsyncTestClient

from app.factory import create_app
from infrastructure.settings import load_settings


async def test_version_envelope(client: AsyncTestClient) -> None:
    body = (await client.get("/api/v1/version")).json()
    assert body["status"] == "ok"
    assert body["response"]["commit_id"] == body["response"]["version"]
    assert body["response"]["storage_engine"] == "sqlite"


async def test_health_and_readiness(client: AsyncTestClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"ready": True, "database": {"ok": True, "detail": ""},
                            "job_broker": {"ok": True, "detail": ""}}


async def test_openapi_lists_typed_routes_and_two_renderers(client: AsyncTestClient) -> None:
    schema = (await client.get("/docs/openapi.json")).json()
    assert {"/api/v1/version", "/api/v1/releases", "/api/v1/release/create", "/readyz"} <= set(schema["paths"])
    releases = schema["paths"]["/api/v1/releases"]["get"]
    assert releases["operationId"] == "listReleases"
    assert "200" in releases["responses"]
    for renderer in ("/docs/swagger", "/docs/redoc"):
        page = await client.get(renderer)
        assert page.status_code == 200
        assert "listReleases" in page.text  # both renderers embed the document


async def test_large_answers_are_gzipped(client: AsyncTestClient) -> None:
    response = await client.get("/docs/openapi.json", headers={"Accept-Encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"


async def test_request_id_is_echoed_or_generated(client: AsyncTestClient) -> None:
    assert (await client.get("/healthz", headers={"X-Request-ID": "ci-123"})).headers["x-request-id"] == "ci-123"
    generated = (await client.get("/healthz", headers={"X-Request-ID": "bad id\n"})).headers["x-request-id"]
    assert generated != "bad id\n" and len(generated) == 32


def test_every_route_declares_who_may_call_it(tmp_path) -> None:
    app = create_app(load_settings({"ARGUS_STORAGE_DATA_DIR": str(tmp_path)}))
    undeclared = []
    checked = 0
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if handler.handler_name == "options_handler" and handler.http_methods == {"OPTIONS"}:
                continue  # Litestar's automatic answer to OPTIONS: an empty 204 listing allowed methods
            checked += 1
            access = handler.opt.get("access")
            if access not in ("public", "login", "admin"):
                undeclared.append(f"{route.path} {handler}")
            elif access != "public":
                guard = f"{access}_required"
                assert any(g.__name__ == guard for g in handler.resolve_guards()), route.path
    assert undeclared == []
    assert checked > 15
