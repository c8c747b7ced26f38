"""Account changes and profile pictures on both engines, through the domain services.

On the scylla engine the keyspace is shared by the session, so every test names its accounts with
its own random ``tag``.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest

from domain.clock import SystemClock
from domain.errors import AlreadyExists, NotAuthenticated
from domain.users.accounts import AccountService
from domain.users.entities import Role, User
from domain.users.pictures import PictureService
from domain.users.service import UserService
from infrastructure.security.argon2_hasher import Argon2PasswordHasher
from infrastructure.settings import AuthSettings, ProfileSettings
from infrastructure.storage import tables
from infrastructure.storage.account_repository import StoreAccountRepository, StorePictureRepository
from infrastructure.storage.store import TableStore
from infrastructure.storage.user_repository import StoreTokenRepository, StoreUserRepository
from tests.unit.fakes import RecordingAudit, RecordingSessions

HASHER = Argon2PasswordHasher(AuthSettings(argon2_time_cost=1, argon2_memory_kib=8192, argon2_parallelism=1))
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


class Wired:
    """The account services over one store instance, with sessions and audit recorded in memory."""

    def __init__(self, store: TableStore) -> None:
        self.store = store
        repository = StoreUserRepository(store)
        self.users = UserService(repository, StoreTokenRepository(store, concurrency=8), HASHER, SystemClock())
        self.lifecycle = StoreAccountRepository(store, concurrency=8)
        self.accounts = AccountService(self.users, repository, self.lifecycle, HASHER, RecordingSessions(),
                                       RecordingAudit())
        self.pictures = PictureService(StorePictureRepository(store), self.lifecycle, SystemClock(),
                                       ProfileSettings().max_picture_bytes)


@pytest.fixture
def tag() -> str:
    return f"t{uuid.uuid4().hex[:10]}"


@pytest.fixture
def wired(engine: TableStore) -> Wired:
    return Wired(engine)


async def test_update_writes_only_the_given_columns(wired: Wired, tag: str) -> None:
    user = await wired.users.create_user(f"{tag}-a", full_name="Ann", email="ann@example.com")
    stale_copy = user
    await wired.accounts.change_full_name(user, "Ann B.")
    # A change made from a stale copy must not bring the old full name back.
    await wired.accounts.set_roles(stale_copy, user.id, [Role.MANAGER, Role.USER])
    stored = await wired.users.get_user(user.id)
    assert (stored.full_name, stored.roles, stored.email) == ("Ann B.", [Role.MANAGER, Role.USER], "ann@example.com")


async def test_update_of_a_deleted_account_does_not_resurrect_it(wired: Wired, tag: str) -> None:
    user = await wired.users.create_user(f"{tag}-gone")
    await wired.lifecycle.remove(user)
    assert not await wired.lifecycle.update(user, {"full_name": "ghost"})
    assert await wired.store.get(tables.users, {"id": user.id}) is None


async def test_rename_moves_the_claim(wired: Wired, tag: str) -> None:
    user = await wired.users.create_user(f"{tag}-old")
    other = await wired.users.create_user(f"{tag}-other")
    renamed = await wired.accounts.change_username(user, f"{tag}-new")
    assert (await wired.users.user_by_username(f"{tag}-new")).id == user.id
    assert await wired.store.get(tables.usernames, {"username": f"{tag}-old"}) is None
    with pytest.raises(AlreadyExists):
        await wired.accounts.change_username(renamed, other.username)
    assert (await wired.users.user_by_username(other.username)).id == other.id
    assert (await wired.users.get_user(user.id)).username == f"{tag}-new"
    # The freed name can be taken by a new account.
    assert (await wired.users.create_user(f"{tag}-old")).id != user.id


async def test_concurrent_renames_to_one_name_have_one_winner(engine: TableStore, twin_store: TableStore,
                                                              tag: str) -> None:
    first, second = Wired(engine), Wired(twin_store)
    racers = [await first.users.create_user(f"{tag}-r{i}") for i in range(4)]
    outcomes = await asyncio.gather(*(
        (first if i % 2 else second).accounts.change_username(user, f"{tag}-prize")
        for i, user in enumerate(racers)), return_exceptions=True)
    winners = [o for o in outcomes if isinstance(o, User)]
    assert len(winners) == 1
    assert all(isinstance(o, AlreadyExists) for o in outcomes if not isinstance(o, User))
    assert (await first.users.user_by_username(f"{tag}-prize")).id == winners[0].id
    stored = [await first.users.get_user(u.id) for u in racers]
    assert sorted(u.username for u in stored) == sorted([f"{tag}-prize", *(
        u.username for u in racers if u.id != winners[0].id)])


async def test_remove_deletes_tokens_picture_claim_and_row(wired: Wired, tag: str) -> None:
    admin = await wired.users.create_user(f"{tag}-admin", roles=[Role.ADMIN])
    user = await wired.users.create_user(f"{tag}-leaver")
    token, secret = await wired.users.issue_token(user.id)
    user = await wired.pictures.upload(user, PNG)
    await wired.accounts.delete(admin, user.id)
    assert await wired.store.get(tables.users, {"id": user.id}) is None
    assert await wired.store.get(tables.usernames, {"username": user.username}) is None
    assert await wired.store.get(tables.api_tokens, {"token_hash": token.token_hash}) is None
    assert not (await wired.store.select(tables.user_tokens, {"user_id": user.id})).rows
    assert user.picture_id is not None
    assert await wired.store.get(tables.user_pictures, {"id": user.picture_id}) is None
    with pytest.raises(NotAuthenticated):
        await wired.users.authenticate_token(secret)
    assert (await wired.users.create_user(user.username)).id != user.id


async def test_picture_round_trip_and_replacement(wired: Wired, tag: str) -> None:
    user = await wired.users.create_user(f"{tag}-pic")
    first = await wired.pictures.upload(user, PNG)
    assert first.picture_id is not None
    stored = await wired.pictures.get(first.picture_id)
    assert (stored.data, stored.content_type, stored.user_id) == (PNG, "image/png", user.id)
    second = await wired.pictures.upload(first, b"\xff\xd8\xff\xe0" + b"\x01" * 100)
    assert (await wired.users.get_user(user.id)).picture_id == second.picture_id
    assert await wired.store.get(tables.user_pictures, {"id": first.picture_id}) is None


async def test_a_picture_of_the_default_size_limit_is_stored_whole(wired: Wired, tag: str) -> None:
    user = await wired.users.create_user(f"{tag}-big")
    data = PNG + bytes(ProfileSettings().max_picture_bytes - len(PNG))
    stored = await wired.pictures.upload(user, data)
    assert stored.picture_id is not None
    assert (await wired.pictures.get(stored.picture_id)).data == data
