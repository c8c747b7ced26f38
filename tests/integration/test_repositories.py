"""Catalogue and account repositories on every storage engine, driven through the domain services.

The engines carry the service schema (``MIGRATIONS``). On the scylla engine the keyspace is
shared by the whole session, so every test names its entities with its own random ``tag`` and
looks only at those in listings.
"""

from __future__ import annotations

import asyncio
import uuid

import msgspec
import pytest

from domain.catalogue.entities import Group, Release, Test
from domain.catalogue.service import CatalogueService
from domain.clock import SystemClock
from domain.errors import AlreadyExists, NotAuthenticated
from domain.users.entities import Role
from domain.users.service import UserService, hash_token
from infrastructure.security.argon2_hasher import Argon2PasswordHasher
from infrastructure.settings import AuthSettings
from infrastructure.storage import tables
from infrastructure.storage.catalogue_repository import StoreCatalogueRepository
from infrastructure.storage.store import TableStore
from infrastructure.storage.user_repository import StoreTokenRepository, StoreUserRepository

HASHER = Argon2PasswordHasher(AuthSettings(argon2_time_cost=1, argon2_memory_kib=8192, argon2_parallelism=1))


@pytest.fixture
def tag() -> str:
    """A prefix that makes this test's names unique in a shared keyspace."""
    return f"t{uuid.uuid4().hex[:10]}"


@pytest.fixture
def repository(engine: TableStore) -> StoreCatalogueRepository:
    return StoreCatalogueRepository(engine)


@pytest.fixture
def catalogue(repository: StoreCatalogueRepository) -> CatalogueService:
    return CatalogueService(repository)


def user_service(store: TableStore) -> UserService:
    return UserService(StoreUserRepository(store), StoreTokenRepository(store, concurrency=8), HASHER,
                       SystemClock())


@pytest.fixture
def users(engine: TableStore) -> UserService:
    return user_service(engine)


def mine(entities: list[Release] | list[Group] | list[Test], tag: str) -> list[str]:
    return [e.name for e in entities if e.name.startswith(tag)]


# -- catalogue ------------------------------------------------------------------------------------


async def test_create_release_group_and_test(catalogue: CatalogueService, tag: str) -> None:
    release = await catalogue.create_release(f"{tag}-rel", pretty_name="Release", description="d")
    group = await catalogue.create_group(release.id, "longevity", pretty_name="Longevity",
                                         build_system_id=f"{tag}-rel/longevity")
    test = await catalogue.create_test(group.id, "longevity-100gb",
                                       build_system_id=f"{tag}-rel/longevity/100gb",
                                       build_system_url="https://ci.example/job/100gb")

    assert await catalogue.get_release(release.id) == release
    assert await catalogue.get_group(group.id) == group
    assert await catalogue.get_test(test.id) == test
    assert await catalogue.test_by_build_id(f"{tag}-rel/longevity/100gb") == test
    assert await catalogue.list_groups(release.id) == [group]
    assert await catalogue.list_tests(group.id) == [test]
    assert test.release_id == release.id and test.group_id == group.id


async def test_a_duplicate_release_name_is_refused_and_not_listed(catalogue: CatalogueService,
                                                                   tag: str) -> None:
    first = await catalogue.create_release(f"{tag}-dup")

    with pytest.raises(AlreadyExists):
        await catalogue.create_release(f"{tag}-dup", pretty_name="second")

    listed = [r for r in await catalogue.list_releases(include_disabled=True) if r.name == f"{tag}-dup"]
    assert listed == [first]


async def test_a_duplicate_group_name_in_a_release_is_refused(catalogue: CatalogueService, tag: str) -> None:
    release = await catalogue.create_release(f"{tag}-rel")
    other = await catalogue.create_release(f"{tag}-other")
    group = await catalogue.create_group(release.id, "grp")

    with pytest.raises(AlreadyExists):
        await catalogue.create_group(release.id, "grp")
    await catalogue.create_group(other.id, "grp")  # the same name in another release is fine

    assert await catalogue.list_groups(release.id) == [group]


async def test_a_duplicate_build_id_is_refused(catalogue: CatalogueService, tag: str) -> None:
    release = await catalogue.create_release(f"{tag}-rel")
    group = await catalogue.create_group(release.id, "grp")
    other_group = await catalogue.create_group(release.id, "grp2")
    test = await catalogue.create_test(group.id, "a", build_system_id=f"{tag}/job")

    with pytest.raises(AlreadyExists):
        await catalogue.create_test(other_group.id, "b", build_system_id=f"{tag}/job")

    assert await catalogue.test_by_build_id(f"{tag}/job") == test
    assert await catalogue.list_tests(other_group.id) == []


async def test_ensure_test_for_build_id_places_it_and_is_idempotent(catalogue: CatalogueService,
                                                                    tag: str) -> None:
    build_id = f"{tag}-rel/grp/sub/test"

    test = await catalogue.ensure_test_for_build_id(build_id, build_url="https://ci.example/1")
    again = await catalogue.ensure_test_for_build_id(build_id)

    assert again == test
    assert test.name == "test" and test.build_system_id == build_id
    assert test.build_system_url == "https://ci.example/1"
    release = await catalogue.get_release(test.release_id)
    group = await catalogue.get_group(test.group_id)
    assert release.name == f"{tag}-rel"
    assert group.name == "grp-sub"
    assert (group.build_system_id, group.release_id) == (f"{tag}-rel/grp/sub", release.id)
    assert mine(await catalogue.list_releases(), tag) == [f"{tag}-rel"]
    assert await catalogue.list_groups(release.id) == [group]
    assert await catalogue.list_tests(group.id) == [test]

    sibling = await catalogue.ensure_test_for_build_id(f"{tag}-rel/grp/sub/other")
    assert (sibling.group_id, sibling.release_id) == (group.id, release.id)


async def test_concurrent_ensure_test_for_build_id_agree_on_one_test(
        engine: TableStore, twin_store: TableStore, tag: str) -> None:
    services = [CatalogueService(StoreCatalogueRepository(engine)),
                CatalogueService(StoreCatalogueRepository(twin_store))]
    build_id = f"{tag}-rel/grp/sub/test"

    tests = await asyncio.gather(*(services[i % 2].ensure_test_for_build_id(build_id) for i in range(6)))

    assert len({t.id for t in tests}) == 1
    assert len({t.group_id for t in tests}) == 1 and len({t.release_id for t in tests}) == 1
    catalogue = services[0]
    assert mine(await catalogue.list_releases(), tag) == [f"{tag}-rel"]
    [release] = [r for r in await catalogue.list_releases() if r.name == f"{tag}-rel"]
    assert release.id == tests[0].release_id
    assert [g.id for g in await catalogue.list_groups(release.id)] == [tests[0].group_id]
    assert [t.id for t in await catalogue.list_tests(tests[0].group_id)] == [tests[0].id]


async def test_listings_are_ordered_by_name_and_hide_disabled_entries(
        catalogue: CatalogueService, repository: StoreCatalogueRepository, tag: str) -> None:
    releases = {name: await catalogue.create_release(f"{tag}-{name}")
                for name in ("delta", "alpha", "charlie")}
    hidden = releases["charlie"]
    hidden.enabled = False
    await repository.save_release(hidden)
    release = releases["alpha"]
    groups = {name: await catalogue.create_group(release.id, name) for name in ("zeta", "beta", "mu")}
    groups["mu"].enabled = False
    await repository.save_group(groups["mu"])
    group = groups["beta"]
    for name in ("t3", "t1", "t2"):
        test = await catalogue.create_test(group.id, name, build_system_id=f"{tag}/{name}")
        if name == "t2":
            test.enabled = False
            await repository.save_test(test)

    assert mine(await catalogue.list_releases(), tag) == [f"{tag}-alpha", f"{tag}-delta"]
    assert mine(await catalogue.list_releases(include_disabled=True), tag) == [
        f"{tag}-alpha", f"{tag}-charlie", f"{tag}-delta"]
    assert [g.name for g in await catalogue.list_groups(release.id)] == ["beta", "zeta"]
    all_groups = await catalogue.list_groups(release.id, include_disabled=True)
    assert [g.name for g in all_groups] == ["beta", "mu", "zeta"]
    assert [t.name for t in await catalogue.list_tests(group.id)] == ["t1", "t3"]
    assert [t.name for t in await catalogue.list_tests(group.id, include_disabled=True)] == ["t1", "t2", "t3"]
    assert (await catalogue.get_release(hidden.id)).enabled is False


# -- users and tokens -----------------------------------------------------------------------------


async def test_create_user_and_refuse_a_duplicate_username(users: UserService, tag: str) -> None:
    user = await users.create_user(f"{tag}.bob", roles=[Role.USER, Role.ADMIN], password="correct horse",
                                   email="bob@example.com")

    with pytest.raises(AlreadyExists):
        await users.create_user(f"{tag}.bob", password="another password")

    found = await users.user_by_username(f"{tag}.bob")
    assert found.id == user.id
    assert set(found.roles) == {Role.USER, Role.ADMIN}
    assert found.registration_date == user.registration_date
    assert found.password_hash is not None and found.password_hash.startswith("$argon2id$")
    assert await HASHER.verify(found.password_hash, "correct horse")
    assert [u.id for u in await users.list_users() if u.username == f"{tag}.bob"] == [user.id]


async def test_an_issued_token_authenticates_its_user(users: UserService, tag: str) -> None:
    user = await users.create_user(f"{tag}-ci", roles=[Role.SERVICE])
    token, secret = await users.issue_token(user.id, "jenkins")

    assert (await users.authenticate_token(secret)).id == user.id
    [listed] = await users.list_tokens(user.id)
    assert listed.id == token.id
    assert listed.last_used_at is not None and listed.last_used_at >= token.created_at


async def test_revoked_and_unknown_tokens_do_not_authenticate(users: UserService, tag: str) -> None:
    user = await users.create_user(f"{tag}-ci")
    token, secret = await users.issue_token(user.id)
    _, other_secret = await users.issue_token(user.id, "other")

    await users.revoke_token(user.id, token.id)

    with pytest.raises(NotAuthenticated):
        await users.authenticate_token(secret)
    with pytest.raises(NotAuthenticated):
        await users.authenticate_token(secret + "x")
    with pytest.raises(NotAuthenticated):
        await users.authenticate_token("")
    assert (await users.authenticate_token(other_secret)).id == user.id
    assert {t.id: t.revoked for t in await users.list_tokens(user.id)}[token.id] is True


async def test_tokens_are_listed_newest_first_without_secrets(users: UserService, tag: str) -> None:
    user = await users.create_user(f"{tag}-lister")
    issued = []
    for name in ("first", "second", "third"):
        issued.append(await users.issue_token(user.id, name))
        await asyncio.sleep(0.01)  # distinct millisecond creation times

    listed = await users.list_tokens(user.id)

    assert [t.name for t in listed] == ["third", "second", "first"]
    encoded = msgspec.json.encode(listed).decode()
    for _, secret in issued:
        assert secret not in encoded


async def test_only_the_hash_of_a_token_is_stored(engine: TableStore, users: UserService, tag: str) -> None:
    user = await users.create_user(f"{tag}-hashed")
    token, secret = await users.issue_token(user.id, "ci")

    row = await engine.get(tables.api_tokens, {"token_hash": hash_token(secret)})
    index = (await engine.select(tables.user_tokens, {"user_id": user.id})).rows

    assert row is not None
    assert row["token_hash"] == token.token_hash != secret
    assert row["id"] == token.id and row["user_id"] == user.id
    for stored in (row, *index):
        assert secret not in repr(stored)
        assert all(secret not in str(value) for value in stored.values())
