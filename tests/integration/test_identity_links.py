"""External identity links on both engines: the claim table alone keeps racing first logins to one account.

The scylla keyspace is shared by the session, so each test uses its own random subject and login.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest

from domain.clock import SystemClock
from domain.users.entities import ExternalIdentity, IdentityLink, IdentityProvider
from domain.users.external import ExternalLoginService
from infrastructure.storage import tables
from infrastructure.storage.identity_link_repository import StoreIdentityLinkRepository
from infrastructure.storage.store import TableStore
from infrastructure.storage.user_repository import StoreUserRepository

GH = IdentityProvider.GITHUB


@pytest.fixture
def tag() -> str:
    return uuid.uuid4().hex[:10]


def service(store: TableStore) -> ExternalLoginService:
    return ExternalLoginService(StoreUserRepository(store), StoreIdentityLinkRepository(store), SystemClock())


def identity(tag: str) -> ExternalIdentity:
    return ExternalIdentity(provider=GH, subject=f"1{int(tag, 16)}", login=f"gh-{tag}", email=f"{tag}@example.com",
                            email_verified=True, name="Racing Person", avatar_url="https://avatars.example/1")


async def test_claim_get_release(engine: TableStore, tag: str) -> None:
    links = StoreIdentityLinkRepository(engine)
    link = IdentityLink(provider=GH, subject=tag, user_id=uuid.uuid4(), login="mona", email="m@example.com",
                        avatar_url="https://avatars.example/2", linked_at=SystemClock().now())
    assert await links.get(GH, tag) is None
    assert await links.claim(link)
    other = IdentityLink(provider=GH, subject=tag, user_id=uuid.uuid4(), linked_at=SystemClock().now())
    assert not await links.claim(other)
    assert await links.get(GH, tag) == link
    assert await links.get(IdentityProvider.CLOUDFLARE, tag) is None  # the provider is part of the key

    await links.release(other)  # points elsewhere: must not remove the real link
    assert await links.get(GH, tag) == link
    await links.release(link)
    assert await links.get(GH, tag) is None


async def test_concurrent_first_logins_on_two_store_instances_create_one_account(
        engine: TableStore, twin_store: TableStore, tag: str) -> None:
    """Two workers (two independent store instances) race the same first login several times over."""
    services = [service(engine), service(twin_store)]
    results = await asyncio.gather(*(services[i % 2].login(identity(tag)) for i in range(6)))
    assert len({u.id for u in results}) == 1
    user = results[0]
    assert user.username == f"gh-{tag}"
    assert (await engine.get(tables.usernames, {"username": f"gh-{tag}"}))["user_id"] == user.id
    for suffix in range(2, 8):  # no loser left a half-created namesake behind
        assert await engine.get(tables.usernames, {"username": f"gh-{tag}-{suffix}"}) is None
    link = await StoreIdentityLinkRepository(engine).get(GH, identity(tag).subject)
    assert link is not None and link.user_id == user.id


async def test_second_login_reuses_the_account(engine: TableStore, tag: str) -> None:
    first = await service(engine).login(identity(tag))
    again = await service(engine).login(identity(tag))
    assert again.id == first.id
    assert again.email == f"{tag}@example.com"
