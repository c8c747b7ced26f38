"""Account and token use cases against fakes."""

from __future__ import annotations

import pytest

from domain.errors import AlreadyExists, InvalidInput, NotAuthenticated, NotFound
from domain.users.entities import Role
from domain.users.service import MAX_ACTIVE_TOKENS, UserService, hash_token
from tests.unit.fakes import FakeClock, FakePasswordHasher, FakeTokenRepository, FakeUserRepository


@pytest.fixture
def tokens() -> FakeTokenRepository:
    return FakeTokenRepository()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def users(tokens: FakeTokenRepository, clock: FakeClock) -> UserService:
    return UserService(FakeUserRepository(), tokens, FakePasswordHasher(), clock)


async def test_create_user_hashes_password_and_defaults(users: UserService) -> None:
    user = await users.create_user("alice", password="correct horse")
    assert user.password_hash == "fake$correct horse"
    assert user.roles == [Role.USER]
    assert user.full_name == "alice"


@pytest.mark.parametrize("username", ["", "-dash-first", "has space", "x" * 65, "semi;colon"])
async def test_bad_usernames_are_refused(users: UserService, username: str) -> None:
    with pytest.raises(InvalidInput):
        await users.create_user(username)


async def test_short_password_is_refused(users: UserService) -> None:
    with pytest.raises(InvalidInput):
        await users.create_user("bob", password="short")


async def test_duplicate_username_is_refused(users: UserService) -> None:
    await users.create_user("carol", roles=[Role.ADMIN, Role.ADMIN])
    with pytest.raises(AlreadyExists):
        await users.create_user("carol")
    assert [u.roles for u in await users.list_users()] == [[Role.ADMIN]]


async def test_token_authenticates_its_owner_and_is_stored_hashed(users: UserService,
                                                                  tokens: FakeTokenRepository) -> None:
    user = await users.create_user("ci", roles=[Role.SERVICE])
    token, secret = await users.issue_token(user.id, "jenkins")
    assert secret not in tokens.tokens and hash_token(secret) in tokens.tokens
    assert (await users.authenticate_token(secret)).id == user.id
    assert [t.name for t in await users.list_tokens(user.id)] == ["jenkins"]
    assert token.token_hash == hash_token(secret)


async def test_unrevoked_tokens_are_capped_and_revoking_one_frees_a_slot(users: UserService,
                                                                         tokens: FakeTokenRepository) -> None:
    user = await users.create_user("cli-looper")
    issued = [await users.issue_token(user.id, "cli") for _ in range(MAX_ACTIVE_TOKENS)]
    with pytest.raises(InvalidInput, match="at most 100 unrevoked"):
        await users.issue_token(user.id, "cli")
    assert len(tokens.tokens) == MAX_ACTIVE_TOKENS  # the refused call stored nothing
    await users.revoke_token(user.id, issued[0][0].id)
    await users.issue_token(user.id, "cli")
    assert sum(not t.revoked for t in await users.list_tokens(user.id)) == MAX_ACTIVE_TOKENS


async def test_bad_and_revoked_tokens_are_refused(users: UserService) -> None:
    user = await users.create_user("ci")
    token, secret = await users.issue_token(user.id)
    for wrong in ("", "nope", secret + "x"):
        with pytest.raises(NotAuthenticated):
            await users.authenticate_token(wrong)
    await users.revoke_token(user.id, token.id)
    with pytest.raises(NotAuthenticated):
        await users.authenticate_token(secret)


async def test_disabled_user_cannot_use_tokens(users: UserService) -> None:
    user = await users.create_user("ci")
    _, secret = await users.issue_token(user.id)
    user.disabled = True
    users._users.users[user.id] = user  # type: ignore[attr-defined]
    with pytest.raises(NotAuthenticated):
        await users.authenticate_token(secret)


async def test_revoking_someone_elses_token_is_not_found(users: UserService) -> None:
    owner = await users.create_user("owner")
    other = await users.create_user("other")
    token, _ = await users.issue_token(owner.id)
    with pytest.raises(NotFound):
        await users.revoke_token(other.id, token.id)


async def test_last_use_is_recorded_at_most_once_a_minute(users: UserService, tokens: FakeTokenRepository,
                                                          clock: FakeClock) -> None:
    user = await users.create_user("ci")
    _, secret = await users.issue_token(user.id)
    for _ in range(5):
        await users.authenticate_token(secret)
    assert tokens.use_writes == 1
    clock.advance(seconds=61)
    await users.authenticate_token(secret)
    assert tokens.use_writes == 2
