"""Admin user management (``/admin/api/v1``) and profile routes (``/api/v1/user/profile``) in-process.

Every answer the module receives goes through ``call``, which fails the test if a password hash,
a token secret or a session secret ever appears in a response body.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
import pytest_asyncio
from litestar.testing import AsyncTestClient

from domain.users.entities import Role, User
from domain.users.sessions import csrf_token_for
from infrastructure.composition import Services

SECRETS: set[str] = set()


def png(width: int = 2, height: int = 2) -> bytes:
    """A real RGB PNG (red pixels), built from its chunks."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def jpeg() -> bytes:
    """A real 8x8 grey baseline JPEG: one block whose DC and AC coefficients are all zero.

    Each Huffman table holds a single one-bit code for symbol 0, so the scan is two zero bits
    (DC difference 0, end of block) padded with ones.
    """
    def segment(marker: int, body: bytes) -> bytes:
        return struct.pack(">BBH", 0xFF, marker, len(body) + 2) + body
    one_code = bytes([1] + [0] * 15) + b"\x00"
    return (b"\xff\xd8" + segment(0xDB, b"\x00" + b"\x01" * 64)
            + segment(0xC0, struct.pack(">BHHB", 8, 8, 8, 1) + b"\x01\x11\x00")
            + segment(0xC4, b"\x00" + one_code) + segment(0xC4, b"\x10" + one_code)
            + segment(0xDA, b"\x01\x01\x00\x00\x3f\x00") + b"\x3f\xff\xd9")


@dataclass
class Caller:
    user: User
    headers: dict[str, str]


@dataclass
class Env:
    client: AsyncTestClient
    services: Services
    admin: Caller
    user: Caller

    async def call(self, method: str, path: str, caller: Caller | None = None, **kwargs: Any) -> httpx.Response:
        headers = {**(caller.headers if caller else {}), **kwargs.pop("headers", {})}
        response = await self.client.request(method, path, headers=headers, **kwargs)
        body = response.content.decode("utf-8", "replace")
        assert "argon2" not in body and "password_hash" not in body and "token_hash" not in body, body
        assert not any(secret in body for secret in SECRETS), body
        return response

    async def account(self, prefix: str, *, roles: list[Role] | None = None, password: str | None = None
                      ) -> Caller:
        user = await self.services.users.create_user(f"{prefix}-{uuid4().hex[:8]}", roles=roles, password=password,
                                                     email=f"{prefix}@example.com")
        _, secret = await self.services.users.issue_token(user.id, "tests")
        SECRETS.add(secret)
        return Caller(user, {"Authorization": f"token {secret}"})

    async def stored(self, user_id: UUID) -> User:
        return await self.services.users.get_user(user_id)

    async def browser(self, user: User) -> tuple[UUID, dict[str, str]]:
        """A logged-in browser session of ``user``: the cookie plus the CSRF header unsafe requests need."""
        session, secret = await self.services.sessions.start(user.id)
        SECRETS.add(secret)
        return session.id, {"Cookie": f"argus_session={secret}", "X-CSRF-Token": csrf_token_for(secret)}


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def env(client: AsyncTestClient) -> Env:
    services: Services = client.app.state.services
    partial = Env(client, services, None, None)  # type: ignore[arg-type]
    partial.admin = await partial.account("admin", roles=[Role.ADMIN], password="admin password")
    partial.user = await partial.account("user", password="user password")
    return partial


def error(response: httpx.Response) -> str:
    body = response.json()
    return body.get("message") or body["response"]["arguments"][0]


# -- access ---------------------------------------------------------------------------------------

ADMIN_ROUTES = [("GET", "/admin/api/v1/", None), ("GET", "/admin/api/v1/users", None),
                ("POST", "/admin/api/v1/user/create", {"username": "nobody-x"}),
                ("POST", "/admin/api/v1/user/{id}/email/set", {"newEmail": "x@example.com"}),
                ("POST", "/admin/api/v1/user/{id}/password/set", {"newPassword": "long enough"}),
                ("POST", "/admin/api/v1/user/{id}/delete", None),
                ("POST", "/admin/api/v1/user/{id}/admin/toggle", None),
                ("POST", "/admin/api/v1/user/{id}/roles/set", {"roles": ["admin"]}),
                ("POST", "/admin/api/v1/user/{id}/disable", None), ("POST", "/admin/api/v1/user/{id}/enable", None)]
PROFILE_ROUTES = [("POST", "/api/v1/user/profile/name", {"full_name": "X"}),
                  ("POST", "/api/v1/user/profile/username", {"username": "stolen-name"}),
                  ("POST", "/api/v1/user/profile/email", {"email": "x@example.com"}),
                  ("POST", "/api/v1/user/profile/password", {"current_password": "a", "new_password": "b" * 10}),
                  ("POST", "/api/v1/user/profile/picture", None), ("GET", f"/storage/picture/{uuid4()}", None)]


async def test_admin_routes_refuse_anonymous_and_plain_users(env: Env) -> None:
    before = (await env.stored(env.user.user.id))
    for method, path, body in ADMIN_ROUTES:
        url = path.format(id=env.user.user.id)
        for caller in (None, env.user):
            response = await env.call(method, url, caller, json=body)
            assert (response.status_code, response.json()) == (403, {"status": "error", "message": "Forbidden"}), url
    assert await env.stored(env.user.user.id) == before
    assert (await env.call("GET", "/admin/api/v1/users", env.admin)).status_code == 200


async def test_profile_routes_need_a_login(env: Env) -> None:
    for method, path, body in PROFILE_ROUTES:
        response = await env.call(method, path, json=body)
        assert response.status_code == 403, path
        assert response.json() == {"status": "error", "message": "Authorization required"}, path


async def test_version_is_bare(env: Env) -> None:
    response = await env.call("GET", "/admin/api/v1/", env.admin)
    assert (response.status_code, response.json()) == (200, {"version": "v1"})


# -- listing and creating -------------------------------------------------------------------------

async def test_list_users_is_keyed_by_id_with_roles_and_standing(env: Env) -> None:
    service = await env.account("svc", roles=[Role.SERVICE])
    response = await env.call("GET", "/admin/api/v1/users", env.admin)
    listed = response.json()["response"]
    assert set(listed[str(env.admin.user.id)]) == {"id", "username", "full_name", "email", "registration_date",
                                                   "roles", "picture_id", "service_user", "disabled"}
    assert listed[str(env.admin.user.id)]["roles"] == ["admin"]
    assert listed[str(service.user.id)]["service_user"] is True
    assert listed[str(env.user.user.id)] | {"registration_date": None} == {
        "id": str(env.user.user.id), "username": env.user.user.username, "full_name": env.user.user.username,
        "email": "user@example.com", "registration_date": None, "roles": ["user"], "picture_id": None,
        "service_user": False, "disabled": False}


async def test_create_user_with_password_and_roles(env: Env) -> None:
    name = f"new-{uuid4().hex[:6]}"
    response = await env.call("POST", "/admin/api/v1/user/create", env.admin, json={
        "username": name, "password": "initial password", "roles": ["manager", "user"], "full_name": "New Person",
        "email": "new@example.com"})
    assert response.status_code == 200
    created = response.json()["response"]
    assert (created["username"], created["roles"], created["email"]) == (name, ["manager", "user"], "new@example.com")
    login = await env.services.password_login.login(name, "initial password", "127.0.0.1")
    assert login.id == UUID(created["id"])


@pytest.mark.parametrize(("body", "status"), [
    ({"username": "bad name"}, 400), ({"username": "ok-name", "email": "not-an-email"}, 400),
    ({"username": "ok-name", "roles": ["overlord"]}, 400), ({"username": "ok-name", "password": "short"}, 400),
    ({"username": "ok-name", "surprise": 1}, 400), ({}, 400), ({"username": 12}, 400)])
async def test_create_user_rejects_bad_bodies_and_creates_nothing(env: Env, body: dict[str, Any],
                                                                  status: int) -> None:
    count = len(await env.services.users.list_users())
    response = await env.call("POST", "/admin/api/v1/user/create", env.admin, json=body)
    assert response.status_code == status and response.json()["status"] == "error"
    assert len(await env.services.users.list_users()) == count


async def test_create_user_refuses_a_taken_username(env: Env) -> None:
    response = await env.call("POST", "/admin/api/v1/user/create", env.admin, json={"username": env.user.user.username})
    assert response.status_code == 409 and "already exists" in error(response)


async def test_create_refuses_non_json(env: Env) -> None:
    response = await env.call("POST", "/admin/api/v1/user/create", env.admin, content=b"{not json",
                              headers={"Content-Type": "application/json"})
    assert response.status_code == 400


# -- per-user administration ----------------------------------------------------------------------

async def test_set_email(env: Env) -> None:
    target = await env.account("mail")
    url = f"/admin/api/v1/user/{target.user.id}/email/set"
    response = await env.call("POST", url, env.admin, json={"newEmail": "changed@example.com"})
    assert (response.status_code, response.json()) == (200, {"status": "ok", "response": True})
    assert (await env.stored(target.user.id)).email == "changed@example.com"
    for body in ({"newEmail": "broken"}, {"email": "x@example.com"}, {"newEmail": 5}, {}):
        assert (await env.call("POST", url, env.admin, json=body)).status_code == 400, body
    assert (await env.stored(target.user.id)).email == "changed@example.com"


async def test_unknown_and_malformed_user_ids(env: Env) -> None:
    for method, path, body in ADMIN_ROUTES:
        if "{id}" not in path:
            continue
        response = await env.call(method, path.format(id=uuid4()), env.admin, json=body)
        assert response.status_code == 404 and response.json()["response"]["exception"] == "NotFound", path
        assert (await env.call(method, path.format(id="not-a-uuid"), env.admin, json=body)).status_code == 404


async def test_password_reset_ends_sessions_and_sets_the_password(env: Env) -> None:
    target = await env.account("forgetful", password="old password")
    await env.browser(target.user)
    url = f"/admin/api/v1/user/{target.user.id}/password/set"
    assert (await env.call("POST", url, env.admin, json={"newPassword": "short"})).status_code == 400
    assert await env.services.sessions.list_for_user(target.user.id)
    response = await env.call("POST", url, env.admin, json={"newPassword": "new secret phrase"})
    assert response.json() == {"status": "ok", "response": True}
    assert not await env.services.sessions.list_for_user(target.user.id)
    assert (await env.services.password_login.login(target.user.username, "new secret phrase", "127.0.0.1")
            ).id == target.user.id


async def test_delete_user_frees_the_username_and_kills_tokens(env: Env) -> None:
    target = await env.account("leaver")
    response = await env.call("POST", f"/admin/api/v1/user/{target.user.id}/delete", env.admin)
    assert response.json() == {"status": "ok", "response": True}
    assert (await env.call("GET", "/api/v1/releases", target)).status_code == 401
    listed = (await env.call("GET", "/admin/api/v1/users", env.admin)).json()["response"]
    assert str(target.user.id) not in listed
    again = await env.call("POST", "/admin/api/v1/user/create", env.admin, json={"username": target.user.username})
    assert again.status_code == 200


async def test_delete_refused_for_yourself_and_for_admins(env: Env) -> None:
    other_admin = await env.account("admin2", roles=[Role.ADMIN])
    for target, message in ((env.admin, "your own account"), (other_admin, "Administrators cannot be deleted")):
        response = await env.call("POST", f"/admin/api/v1/user/{target.user.id}/delete", env.admin)
        assert response.status_code == 403 and message in error(response)
        assert (await env.stored(target.user.id)).username == target.user.username


async def test_admin_toggle(env: Env) -> None:
    target = await env.account("promoted")
    url = f"/admin/api/v1/user/{target.user.id}/admin/toggle"
    assert (await env.call("POST", url, env.admin)).json() == {"status": "ok", "response": True}
    assert (await env.stored(target.user.id)).roles == [Role.ADMIN, Role.USER]
    assert (await env.call("GET", "/admin/api/v1/users", target)).status_code == 200
    await env.call("POST", url, env.admin)
    assert (await env.stored(target.user.id)).roles == [Role.USER]
    response = await env.call("POST", f"/admin/api/v1/user/{env.admin.user.id}/admin/toggle", env.admin)
    assert response.status_code == 403 and "your own admin role" in error(response)
    assert (await env.stored(env.admin.user.id)).roles == [Role.ADMIN]


async def test_roles_set(env: Env) -> None:
    target = await env.account("roled")
    url = f"/admin/api/v1/user/{target.user.id}/roles/set"
    response = await env.call("POST", url, env.admin, json={"roles": ["manager", "service", "manager"]})
    assert response.status_code == 200
    assert response.json()["response"]["roles"] == ["manager", "service"]
    assert response.json()["response"]["service_user"] is True
    for body in ({"roles": []}, {"roles": ["root"]}, {"roles": "admin"}, {}):
        assert (await env.call("POST", url, env.admin, json=body)).status_code == 400, body
    assert (await env.stored(target.user.id)).roles == [Role.MANAGER, Role.SERVICE]
    own = await env.call("POST", f"/admin/api/v1/user/{env.admin.user.id}/roles/set", env.admin,
                         json={"roles": ["user"]})
    assert own.status_code == 403 and (await env.stored(env.admin.user.id)).roles == [Role.ADMIN]


async def test_disable_and_enable(env: Env) -> None:
    target = await env.account("paused")
    await env.browser(target.user)
    response = await env.call("POST", f"/admin/api/v1/user/{target.user.id}/disable", env.admin)
    assert response.status_code == 200 and response.json()["response"]["disabled"] is True
    assert (await env.call("GET", "/api/v1/releases", target)).status_code == 401
    assert not await env.services.sessions.list_for_user(target.user.id)
    response = await env.call("POST", f"/admin/api/v1/user/{target.user.id}/enable", env.admin)
    assert response.json()["response"]["disabled"] is False
    assert (await env.call("GET", "/api/v1/releases", target)).status_code == 200
    own = await env.call("POST", f"/admin/api/v1/user/{env.admin.user.id}/disable", env.admin)
    assert own.status_code == 403 and not (await env.stored(env.admin.user.id)).disabled


async def test_admin_actions_are_audited(env: Env) -> None:
    target = await env.account("audited")
    await env.call("POST", f"/admin/api/v1/user/{target.user.id}/email/set", env.admin,
                   json={"newEmail": "audited@example.org"})
    entries, _ = await env.services.audit.newest(50)
    entry = next(e for e in entries if e.target == str(target.user.id))
    assert (entry.actor_id, entry.action, entry.details["email"]) == (env.admin.user.id, "user.email.set",
                                                                     "audited@example.org")


# -- own profile ----------------------------------------------------------------------------------

async def test_profile_name(env: Env) -> None:
    me = await env.account("named")
    response = await env.call("POST", "/api/v1/user/profile/name", me, json={"full_name": "  Grace Hopper "})
    assert response.status_code == 200 and response.json()["response"]["full_name"] == "Grace Hopper"
    for body in ({"full_name": "   "}, {"full_name": "x" * 201}, {"name": "X"}, {"full_name": None}):
        assert (await env.call("POST", "/api/v1/user/profile/name", me, json=body)).status_code == 400, body
    assert (await env.stored(me.user.id)).full_name == "Grace Hopper"


async def test_profile_username(env: Env) -> None:
    me = await env.account("renamer")
    new_name = f"renamed-{uuid4().hex[:6]}"
    response = await env.call("POST", "/api/v1/user/profile/username", me, json={"username": new_name})
    assert response.status_code == 200 and response.json()["response"]["username"] == new_name
    taken = await env.call("POST", "/api/v1/user/profile/username", me, json={"username": env.user.user.username})
    assert taken.status_code == 409 and "taken" in error(taken)
    bad = await env.call("POST", "/api/v1/user/profile/username", me, json={"username": "has space"})
    assert bad.status_code == 400
    assert (await env.stored(me.user.id)).username == new_name
    assert (await env.services.users.user_by_username(new_name)).id == me.user.id


async def test_profile_email_only_for_admins_or_impersonation(env: Env) -> None:
    me = await env.account("plain")
    refused = await env.call("POST", "/api/v1/user/profile/email", me, json={"email": "mine@example.com"})
    assert refused.status_code == 403 and "Only administrators" in error(refused)
    assert (await env.stored(me.user.id)).email == "plain@example.com"
    admin = await env.call("POST", "/api/v1/user/profile/email", env.admin, json={"email": "root@example.com"})
    assert admin.status_code == 200 and admin.json()["response"]["email"] == "root@example.com"
    service = await env.account("svc-mail", roles=[Role.SERVICE])
    _, secret = await env.services.sessions.start(service.user.id, original_user_id=env.admin.user.id)
    SECRETS.add(secret)
    headers = {"Cookie": f"argus_session={secret}", "X-CSRF-Token": csrf_token_for(secret)}
    impersonated = await env.call("POST", "/api/v1/user/profile/email", json={"email": "svc@example.com"},
                                  headers=headers)
    assert impersonated.status_code == 200, impersonated.text
    assert (await env.stored(service.user.id)).email == "svc@example.com"
    bad = await env.call("POST", "/api/v1/user/profile/email", env.admin, json={"email": "nope"})
    assert bad.status_code == 400 and (await env.stored(env.admin.user.id)).email == "root@example.com"


async def test_profile_password_keeps_only_the_current_session(env: Env) -> None:
    me = await env.account("changer", password="first password")
    this_session, browser = await env.browser(me.user)
    other_session, _ = await env.browser(me.user)
    url = "/api/v1/user/profile/password"
    wrong = await env.call("POST", url, json={"current_password": "nope nope", "new_password": "second password"},
                           headers=browser)
    assert wrong.status_code == 403 and "incorrect" in error(wrong)
    short = await env.call("POST", url, json={"current_password": "first password", "new_password": "x"},
                           headers=browser)
    assert short.status_code == 400
    assert len(await env.services.sessions.list_for_user(me.user.id)) == 2
    response = await env.call("POST", url, json={"current_password": "first password",
                                                 "new_password": "second password"}, headers=browser)
    assert response.json() == {"status": "ok", "response": True}
    assert [s.id for s in await env.services.sessions.list_for_user(me.user.id)] == [this_session]
    assert other_session != this_session
    assert (await env.services.password_login.login(me.user.username, "second password", "127.0.0.1")
            ).id == me.user.id


# -- pictures -------------------------------------------------------------------------------------

async def test_picture_upload_and_serving(env: Env) -> None:
    me = await env.account("pictured")
    for data, content_type in ((png(), "image/png"), (jpeg(), "image/jpeg")):
        response = await env.call("POST", "/api/v1/user/profile/picture", me,
                                  files={"filedata": ("avatar.bin", data, "application/octet-stream")})
        assert response.status_code == 200, response.text
        picture_id = response.json()["response"]["picture_id"]
        assert (await env.stored(me.user.id)).picture_id == UUID(picture_id)
        served = await env.call("GET", f"/storage/picture/{picture_id}", env.user)
        assert served.status_code == 200 and served.content == data
        assert served.headers["content-type"] == content_type
        assert "max-age=31536000" in served.headers["cache-control"]
        etag = served.headers["etag"]
        again = await env.call("GET", f"/storage/picture/{picture_id}", env.user, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b""


async def test_bad_pictures_are_refused_and_change_nothing(env: Env) -> None:
    me = await env.account("unpictured")
    limit = env.services.settings.profile.max_picture_bytes
    oversized = png() + b"\x00" * limit
    for data, message in ((b"<svg xmlns='http://www.w3.org/2000/svg'/>", "PNG, JPEG, GIF or WebP"),
                          (oversized, f"larger than {limit} bytes"), (b"", "empty")):
        response = await env.call("POST", "/api/v1/user/profile/picture", me,
                                  files={"filedata": ("a.png", data, "image/png")})
        assert response.status_code == 400 and message in error(response), response.text
    missing_field = await env.call("POST", "/api/v1/user/profile/picture", me, files={"other": ("a.png", png())})
    assert missing_field.status_code == 400
    text_field = await env.call("POST", "/api/v1/user/profile/picture", me, files={"filedata": (None, "not a file")})
    assert text_field.status_code == 400
    json_body = await env.call("POST", "/api/v1/user/profile/picture", me, json={"filedata": "x"})
    assert json_body.status_code in (400, 415)
    assert (await env.stored(me.user.id)).picture_id is None


async def test_unknown_picture_is_404(env: Env) -> None:
    response = await env.call("GET", f"/storage/picture/{uuid4()}", env.user)
    assert response.status_code == 404 and response.json()["response"]["exception"] == "NotFound"
