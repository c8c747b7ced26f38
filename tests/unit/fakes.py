"""Dict-backed fakes of the domain ports: they behave like storage, so tests assert on state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

from domain.catalogue.entities import Group, Release, Test
from domain.users.entities import ApiToken, User


class FakeCatalogueRepository:
    """Keeps the uniqueness rules of the real repository."""

    def __init__(self) -> None:
        self.releases: dict[UUID, Release] = {}
        self.groups: dict[UUID, Group] = {}
        self.tests: dict[UUID, Test] = {}

    async def add_release(self, release: Release) -> bool:
        if any(r.name == release.name for r in self.releases.values()):
            return False
        self.releases[release.id] = release
        return True

    async def save_release(self, release: Release) -> None:
        self.releases[release.id] = release

    async def get_release(self, release_id: UUID) -> Release | None:
        return self.releases.get(release_id)

    async def release_by_name(self, name: str) -> Release | None:
        return next((r for r in self.releases.values() if r.name == name), None)

    async def list_releases(self) -> list[Release]:
        return sorted(self.releases.values(), key=lambda r: r.name)

    async def add_group(self, group: Group) -> bool:
        if await self.group_by_name(group.release_id, group.name):
            return False
        self.groups[group.id] = group
        return True

    async def save_group(self, group: Group) -> None:
        self.groups[group.id] = group

    async def get_group(self, group_id: UUID) -> Group | None:
        return self.groups.get(group_id)

    async def group_by_name(self, release_id: UUID, name: str) -> Group | None:
        return next((g for g in self.groups.values() if g.release_id == release_id and g.name == name), None)

    async def list_groups(self, release_id: UUID) -> list[Group]:
        return sorted((g for g in self.groups.values() if g.release_id == release_id), key=lambda g: g.name)

    async def add_test(self, test: Test) -> bool:
        if await self.test_by_build_id(test.build_system_id):
            return False
        self.tests[test.id] = test
        return True

    async def save_test(self, test: Test) -> None:
        self.tests[test.id] = test

    async def get_test(self, test_id: UUID) -> Test | None:
        return self.tests.get(test_id)

    async def test_by_build_id(self, build_id: str) -> Test | None:
        return next((t for t in self.tests.values() if t.build_system_id == build_id), None)

    async def list_tests(self, group_id: UUID) -> list[Test]:
        return sorted((t for t in self.tests.values() if t.group_id == group_id), key=lambda t: t.name)


class FakeUserRepository:
    """Usernames unique, like the claim table."""

    def __init__(self) -> None:
        self.users: dict[UUID, User] = {}

    async def add(self, user: User) -> bool:
        if await self.by_username(user.username):
            return False
        self.users[user.id] = user
        return True

    async def save(self, user: User) -> None:
        self.users[user.id] = user

    async def get(self, user_id: UUID) -> User | None:
        return self.users.get(user_id)

    async def by_username(self, username: str) -> User | None:
        return next((u for u in self.users.values() if u.username == username), None)

    async def list_all(self, limit: int) -> list[User]:
        return list(self.users.values())[:limit]

    async def count(self, limit: int) -> int:
        return min(len(self.users), limit)


class FakeTokenRepository:
    """Tokens by hash, with the number of last-use writes counted."""

    def __init__(self) -> None:
        self.tokens: dict[str, ApiToken] = {}
        self.use_writes = 0

    async def add(self, token: ApiToken) -> None:
        self.tokens[token.token_hash] = token

    async def by_hash(self, token_hash: str) -> ApiToken | None:
        token = self.tokens.get(token_hash)
        return None if token is None else ApiToken(**{f: getattr(token, f) for f in token.__struct_fields__})

    async def for_user(self, user_id: UUID) -> list[ApiToken]:
        return sorted((t for t in self.tokens.values() if t.user_id == user_id), key=lambda t: t.created_at,
                      reverse=True)

    async def mark_used(self, token: ApiToken, when: datetime) -> None:
        self.use_writes += 1
        self.tokens[token.token_hash].last_used_at = when

    async def revoke(self, token: ApiToken) -> None:
        self.tokens[token.token_hash].revoked = True


class FakePasswordHasher:
    """Reversible on purpose: unit tests check the service calls it, not argon2 itself."""

    async def hash(self, password: str) -> str:
        return f"fake${password}"

    async def verify(self, encoded: str, password: str) -> bool:
        return encoded == f"fake${password}"

    def needs_rehash(self, encoded: str) -> bool:
        return not encoded.startswith("fake$")


class FakeClock:
    """A clock tests move by hand."""

    def __init__(self) -> None:
        self.moment = datetime(2026, 1, 1, tzinfo=UTC)

    def now(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)
