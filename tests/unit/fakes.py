"""Dict-backed fakes of the domain ports: they behave like storage, so tests assert on state."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import msgspec

from domain.catalogue.entities import Group, Release, Test
from domain.results.entities import BestResult, Cell, ResultTableMeta, StoredCell
from domain.runs.entities import Run, TestSummary
from domain.users.entities import ApiToken, IdentityLink, IdentityProvider, Picture, User


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


class FakeResultsRepository:
    """Results tables in dicts, with the revision check and upsert keys of the real repository."""

    def __init__(self) -> None:
        self.tables: dict[tuple[UUID, str], ResultTableMeta] = {}
        self.bests: dict[tuple[UUID, str], list[BestResult]] = {}
        self.cells: dict[tuple[UUID, str], dict[tuple[UUID, str, str], StoredCell]] = {}
        self.run_tables: dict[tuple[UUID, UUID], dict[str, datetime]] = {}  # first submission per table
        self.latest_sut: dict[tuple[UUID, str], dict[UUID, datetime]] = {}  # the table's run index
        self.table_writes = 0

    async def get_table(self, test_id: UUID, name: str) -> ResultTableMeta | None:
        return self.tables.get((test_id, name))

    async def list_tables(self, test_id: UUID) -> list[ResultTableMeta]:
        return [meta for (test, _), meta in sorted(self.tables.items(), key=lambda i: i[0][1]) if test == test_id]

    async def add_table(self, meta: ResultTableMeta) -> bool:
        if (meta.test_id, meta.name) in self.tables:
            return False
        self.tables[meta.test_id, meta.name] = meta
        self.table_writes += 1
        return True

    async def replace_table(self, meta: ResultTableMeta, *, expected_revision: int) -> bool:
        current = self.tables.get((meta.test_id, meta.name))
        if current is None or current.revision != expected_revision:
            return False
        self.tables[meta.test_id, meta.name] = meta
        self.table_writes += 1
        return True

    async def best_results(self, test_id: UUID, name: str) -> list[BestResult]:
        return list(self.bests.get((test_id, name), []))

    async def add_best_results(self, test_id: UUID, name: str, results: list[BestResult]) -> None:
        self.bests.setdefault((test_id, name), []).extend(results)

    async def save_run_cells(self, test_id: UUID, name: str, run_id: UUID, sut_timestamp: datetime,
                             cells: list[Cell], submitted_at: datetime) -> None:
        self.run_tables.setdefault((test_id, run_id), {}).setdefault(name, submitted_at)
        self.latest_sut.setdefault((test_id, name), {})[run_id] = sut_timestamp
        table = self.cells.setdefault((test_id, name), {})
        for c in cells:
            table[run_id, c.column, c.row] = StoredCell(run_id=run_id, sut_timestamp=sut_timestamp, column=c.column,
                                                        row=c.row, value=c.value, value_text=c.value_text,
                                                        status=c.status)

    async def run_cells(self, test_id: UUID, run_id: UUID) -> dict[str, list[StoredCell]]:
        order = sorted(self.run_tables.get((test_id, run_id), {}).items(), key=lambda i: (i[1], i[0]))
        return {name: [c for key, c in sorted(self.cells[test_id, name].items()) if key[0] == run_id]
                for name, _ in order}

    async def history_cells(self, test_id: UUID, name: str, *, since: datetime | None, until: datetime | None,
                            max_runs: int, max_cells: int) -> list[StoredCell]:
        def inside(moment: datetime) -> bool:
            return (since is None or moment >= since) and (until is None or moment <= until)

        runs = sorted(((sut, run) for run, sut in self.latest_sut.get((test_id, name), {}).items() if inside(sut)),
                      reverse=True)[:max_runs]
        table = self.cells.get((test_id, name), {})
        cells = [c for _, run in runs for key, c in sorted(table.items()) if key[0] == run and inside(c.sut_timestamp)]
        return cells[:max_cells]


class FakeIgnoredRuns:
    """Runs triaged as ignored, set by hand."""

    def __init__(self) -> None:
        self.ignored_ids: set[UUID] = set()

    async def ignored(self, run_ids: set[UUID]) -> set[UUID]:
        return run_ids & self.ignored_ids



class FakeRunRepository:
    """Runs by id with the claim semantics of the locator table."""

    def __init__(self) -> None:
        self.runs: dict[UUID, Run] = {}
        self.writes = 0

    async def claim(self, run: Run) -> Run | None:
        if run.id in self.runs:
            return msgspec.structs.replace(self.runs[run.id])
        self.runs[run.id] = msgspec.structs.replace(run)
        self.writes += 1
        return None

    async def get(self, run_id: UUID) -> Run | None:
        run = self.runs.get(run_id)
        return None if run is None else msgspec.convert(msgspec.to_builtins(run), Run)

    async def update(self, run: Run, changes: Mapping[str, Any]) -> None:
        stored = self.runs[run.id]
        for name, value in changes.items():
            setattr(stored, name, value)
        self.writes += 1

    async def latest_for_build(self, build_id: str, limit: int, *, before: datetime | None = None,
                               after: datetime | None = None) -> list[Run]:
        runs = [r for r in self.runs.values() if r.build_id == build_id and (before is None or r.start_time < before)
                and (after is None or r.start_time > after)]
        return sorted(runs, key=lambda r: r.start_time, reverse=True)[:limit]

    async def with_build_number(self, build_id: str, build_number: int, max_scanned: int) -> Run | None:
        runs = (await self.latest_for_build(build_id, max_scanned))
        return next((r for r in runs if r.build_number == build_number), None)

    async def ignored(self, run_ids: set[UUID]) -> set[UUID]:
        return {i for i in run_ids if i in self.runs and self.runs[i].investigation_status == "ignored"}


class FakeSummaryRepository:
    """Summaries by test."""

    def __init__(self) -> None:
        self.summaries: dict[UUID, TestSummary] = {}

    async def save(self, summary: TestSummary) -> None:
        self.summaries[summary.test_id] = summary

    async def for_release(self, release_id: UUID) -> list[TestSummary]:
        return [s for s in self.summaries.values() if s.release_id == release_id]


class FakePictureRepository:
    """Pictures by id."""

    def __init__(self) -> None:
        self.pictures: dict[UUID, Picture] = {}

    async def add(self, picture: Picture) -> None:
        self.pictures[picture.id] = picture

    async def get(self, picture_id: UUID) -> Picture | None:
        return self.pictures.get(picture_id)

    async def delete(self, picture_id: UUID) -> None:
        self.pictures.pop(picture_id, None)


class FakeAccountRepository:
    """Edits the fake user, token and picture stores in place, keeping usernames unique like the claim table."""

    def __init__(self, users: FakeUserRepository, tokens: FakeTokenRepository,
                 pictures: FakePictureRepository) -> None:
        self._users = users
        self._tokens = tokens
        self._pictures = pictures

    async def update(self, user: User, changes: Mapping[str, object]) -> bool:
        stored = self._users.users.get(user.id)
        if stored is None:
            return False
        self._users.users[user.id] = msgspec.structs.replace(stored, **changes)
        return True

    async def rename(self, user: User, new_username: str) -> bool:
        if await self._users.by_username(new_username) or user.id not in self._users.users:
            return False
        return await self.update(user, {"username": new_username})

    async def remove(self, user: User) -> None:
        self._tokens.tokens = {h: t for h, t in self._tokens.tokens.items() if t.user_id != user.id}
        if user.picture_id is not None:
            await self._pictures.delete(user.picture_id)
        self._users.users.pop(user.id, None)


class RecordingSessions:
    """Remembers which accounts' sessions were revoked and which session was kept."""

    def __init__(self) -> None:
        self.revoked: list[tuple[UUID, UUID | None]] = []

    async def revoke_all(self, user_id: UUID, *, keep: UUID | None = None) -> int:
        self.revoked.append((user_id, keep))
        return 1


class RecordingAudit:
    """Keeps audit entries as (actor, action, target, details) tuples."""

    def __init__(self) -> None:
        self.entries: list[tuple[UUID, str, str, dict[str, str]]] = []

    async def record(self, actor_id: UUID, action: str, target: str, details: Mapping[str, str]) -> None:
        self.entries.append((actor_id, action, target, dict(details)))


class FakeIdentityLinkRepository:
    """Links keyed by (provider, subject); a claim of a linked identity fails, as with IF NOT EXISTS."""

    def __init__(self) -> None:
        self.links: dict[tuple[IdentityProvider, str], IdentityLink] = {}

    async def claim(self, link: IdentityLink) -> bool:
        key = (link.provider, link.subject)
        if key in self.links:
            return False
        self.links[key] = link
        return True

    async def get(self, provider: IdentityProvider, subject: str) -> IdentityLink | None:
        return self.links.get((provider, subject))

    async def release(self, link: IdentityLink) -> None:
        key = (link.provider, link.subject)
        if key in self.links and self.links[key].user_id == link.user_id:
            del self.links[key]
