"""Sessions, password login throttling, the first administrator and the audit log, against fakes."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import msgspec
import pytest

from domain.errors import InvalidInput, NotAuthenticated, NotFound, RateLimited
from domain.users.audit import AuditLog
from domain.users.entities import Role
from domain.users.login import BOOTSTRAP_ADMIN, LOGIN_FAILED, LoginThrottle, PasswordLogin, bootstrap_admin
from domain.users.service import UserService
from domain.users.sessions import SessionPolicy, SessionService, csrf_token_for, hash_secret
from tests.unit.fakes import (
    FakeAccountRepository,
    FakeClock,
    FakePictureRepository,
    FakeTokenRepository,
    FakeUserRepository,
)
from tests.unit.identity_fakes import CountingHasher, FakeAttemptCounter, FakeAuditRepository, FakeSessionStore

POLICY = SessionPolicy(idle_timeout=timedelta(hours=1), max_age=timedelta(hours=5))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(clock: FakeClock) -> FakeSessionStore:
    return FakeSessionStore(clock)


@pytest.fixture
def sessions(store: FakeSessionStore, clock: FakeClock) -> SessionService:
    return SessionService(store, clock, POLICY)


@pytest.fixture
def hasher() -> CountingHasher:
    return CountingHasher()


@pytest.fixture
def accounts() -> FakeUserRepository:
    return FakeUserRepository()


@pytest.fixture
def users(accounts: FakeUserRepository, hasher: CountingHasher, clock: FakeClock) -> UserService:
    return UserService(accounts, FakeTokenRepository(), hasher, clock)


@pytest.fixture
def login(accounts: FakeUserRepository, hasher: CountingHasher, clock: FakeClock) -> PasswordLogin:
    edits = FakeAccountRepository(accounts, FakeTokenRepository(), FakePictureRepository())
    return PasswordLogin(accounts, edits, hasher, FakeAttemptCounter(clock),
                         LoginThrottle(max_failures=10, window_seconds=60))


# -- sessions -----------------------------------------------------------------------------------

async def test_session_is_stored_by_hash_only(sessions: SessionService, store: FakeSessionStore) -> None:
    user_id = uuid4()
    session, secret = await sessions.start(user_id, user_agent="UA", address="10.0.0.1")
    assert list(store.rows) == [hash_secret(secret)] and secret not in str(store.rows)
    resolved = await sessions.resolve(secret)
    assert resolved is not None and resolved.id == session.id and resolved.user_id == user_id
    assert await sessions.resolve(secret + "x") is None
    assert await sessions.resolve("") is None


async def test_idle_session_expires_and_use_keeps_it_alive(sessions: SessionService, clock: FakeClock) -> None:
    _, kept = await sessions.start(uuid4())
    _, idle = await sessions.start(uuid4())
    for _ in range(3):
        clock.advance(minutes=40)
        assert await sessions.resolve(kept) is not None
    assert await sessions.resolve(idle) is None


async def test_absolute_expiry_ends_even_a_busy_session(sessions: SessionService, clock: FakeClock) -> None:
    _, secret = await sessions.start(uuid4())
    for _ in range(9):
        clock.advance(minutes=30)
        assert await sessions.resolve(secret) is not None
    clock.advance(minutes=31)
    assert await sessions.resolve(secret) is None


async def test_last_seen_is_written_at_most_once_a_minute(sessions: SessionService, store: FakeSessionStore,
                                                          clock: FakeClock) -> None:
    _, secret = await sessions.start(uuid4())
    for _ in range(5):
        await sessions.resolve(secret)
    assert store.writes == 1
    clock.advance(seconds=61)
    await sessions.resolve(secret)
    assert store.writes == 2


async def test_revoke_one_and_revoke_all_but_current(sessions: SessionService) -> None:
    owner, other = uuid4(), uuid4()
    first, first_secret = await sessions.start(owner)
    _, second_secret = await sessions.start(owner)
    third, third_secret = await sessions.start(owner)
    _, other_secret = await sessions.start(other)
    with pytest.raises(NotFound):
        await sessions.revoke(other, first.id)
    await sessions.revoke(owner, first.id)
    assert await sessions.resolve(first_secret) is None
    assert await sessions.revoke_all(owner, keep=third.id) == 1
    assert await sessions.resolve(second_secret) is None
    assert await sessions.resolve(third_secret) is not None
    assert await sessions.resolve(other_secret) is not None
    assert [s.id for s in await sessions.list_for_user(owner)] == [third.id]


async def test_impersonation_session_belongs_to_the_administrator(sessions: SessionService) -> None:
    admin, service = uuid4(), uuid4()
    session, secret = await sessions.start(service, original_user_id=admin)
    assert [s.id for s in await sessions.list_for_user(admin)] == [session.id]
    assert await sessions.list_for_user(service) == []
    assert await sessions.revoke_all(admin) == 1
    assert await sessions.resolve(secret) is None


def test_csrf_token_is_bound_to_the_secret_and_reveals_nothing() -> None:
    assert csrf_token_for("a") == csrf_token_for("a") != csrf_token_for("b")
    assert "a" * 8 not in csrf_token_for("a" * 8) and csrf_token_for("s") != hash_secret("s")


# -- password login -----------------------------------------------------------------------------

async def test_login_checks_the_password(users: UserService, login: PasswordLogin) -> None:
    alice = await users.create_user("alice", password="correct horse")
    assert (await login.login("alice", "correct horse", "10.0.0.1")).id == alice.id
    for username, password in (("alice", "wrong horse"), ("nobody", "correct horse"), ("", "")):
        with pytest.raises(NotAuthenticated) as failure:
            await login.login(username, password, "10.0.0.1")
        assert failure.value.message == LOGIN_FAILED


async def test_unknown_user_costs_a_hash_verification(users: UserService, login: PasswordLogin,
                                                      hasher: CountingHasher) -> None:
    with pytest.raises(NotAuthenticated):
        await login.login("ghost", "whatever1", "10.0.0.1")
    assert hasher.verifications == 1


@pytest.mark.parametrize("kind", ["service", "disabled", "no password"])
async def test_accounts_that_cannot_use_passwords(users: UserService, login: PasswordLogin,
                                                  accounts: FakeUserRepository, kind: str) -> None:
    user = await users.create_user("bot", roles=[Role.SERVICE] if kind == "service" else None,
                                   password=None if kind == "no password" else "correct horse")
    user.disabled = kind == "disabled"
    accounts.users[user.id] = user
    with pytest.raises(NotAuthenticated):
        await login.login("bot", "correct horse", "10.0.0.1")


async def test_eleventh_failure_is_refused_without_hashing(users: UserService, login: PasswordLogin,
                                                           hasher: CountingHasher, clock: FakeClock) -> None:
    await users.create_user("alice", password="correct horse")
    for attempt in range(10):
        with pytest.raises(NotAuthenticated):
            await login.login("alice", f"wrong {attempt}", f"10.0.0.{attempt}")
    before = hasher.verifications
    with pytest.raises(RateLimited):
        await login.login("alice", "correct horse", "10.0.1.1")
    assert hasher.verifications == before
    clock.advance(seconds=61)
    assert (await login.login("alice", "correct horse", "10.0.1.1")).username == "alice"


async def test_one_address_is_throttled_across_usernames(users: UserService, login: PasswordLogin,
                                                         hasher: CountingHasher) -> None:
    await users.create_user("alice", password="correct horse")
    for attempt in range(10):
        with pytest.raises(NotAuthenticated):
            await login.login(f"user{attempt}", "guess1234", "10.9.9.9")
    before = hasher.verifications
    with pytest.raises(RateLimited):
        await login.login("alice", "correct horse", "10.9.9.9")
    assert hasher.verifications == before
    assert (await login.login("alice", "correct horse", "10.0.0.2")).username == "alice"


async def test_hash_made_with_old_parameters_is_replaced_on_login(users: UserService, login: PasswordLogin,
                                                                  accounts: FakeUserRepository) -> None:
    alice = await users.create_user("alice", password="correct horse")
    alice.password_hash = "legacy$correct horse"
    accounts.users[alice.id] = alice
    await login.login("alice", "correct horse", "10.0.0.1")
    assert (await accounts.get(alice.id)).password_hash == "fake$correct horse"  # type: ignore[union-attr]


async def test_rehash_on_login_does_not_undo_a_concurrent_disable(users: UserService, accounts: FakeUserRepository,
                                                                   clock: FakeClock) -> None:
    alice = await users.create_user("alice", password="correct horse")
    accounts.users[alice.id] = msgspec.structs.replace(alice, password_hash="legacy$correct horse")

    class AdminDisablesMeanwhile(CountingHasher):
        async def verify(self, encoded: str, password: str) -> bool:
            accounts.users[alice.id] = msgspec.structs.replace(accounts.users[alice.id], disabled=True)
            return await super().verify(encoded, password)

    edits = FakeAccountRepository(accounts, FakeTokenRepository(), FakePictureRepository())
    login = PasswordLogin(accounts, edits, AdminDisablesMeanwhile(), FakeAttemptCounter(clock), LoginThrottle())
    await login.login("alice", "correct horse", "10.0.0.1")
    stored = accounts.users[alice.id]
    assert stored.disabled and stored.password_hash == "fake$correct horse"


# -- first administrator ------------------------------------------------------------------------

async def test_bootstrap_creates_one_admin_on_an_empty_table(users: UserService, login: PasswordLogin) -> None:
    created = await bootstrap_admin(users, None)
    assert created is not None
    admin, password = created
    assert admin.username == BOOTSTRAP_ADMIN and admin.roles == [Role.ADMIN] and len(password) >= 16
    assert (await login.login(BOOTSTRAP_ADMIN, password, "127.0.0.1")).id == admin.id
    assert await bootstrap_admin(users, None) is None


async def test_bootstrap_uses_the_configured_password_and_skips_populated_tables(users: UserService) -> None:
    created = await bootstrap_admin(users, "from-settings-1")
    assert created is not None and created[1] == "from-settings-1"
    fresh = UserService(FakeUserRepository(), FakeTokenRepository(), CountingHasher(), FakeClock())
    await fresh.create_user("someone")
    assert await bootstrap_admin(fresh, None) is None


# -- audit log ----------------------------------------------------------------------------------

async def test_audit_records_newest_first_with_a_cursor(clock: FakeClock) -> None:
    audit = AuditLog(FakeAuditRepository(), clock)
    actor = uuid4()
    for n in range(3):
        await audit.record(actor, "impersonation.start", f"target-{n}", {"n": n})  # type: ignore[dict-item]
        clock.advance(seconds=1)
    page, cursor = await audit.newest(2)
    assert [e.target for e in page] == ["target-2", "target-1"] and page[0].details == {"n": "2"}
    rest, end = await audit.newest(2, cursor)
    assert [e.target for e in rest] == ["target-0"] and end is None
    with pytest.raises(InvalidInput):
        await audit.newest(0)
