"""The global search box: releases, groups and tests by name, with facets, and runs by id.

The catalogue is small (thousands of tests) and changes rarely, while the search box asks on every
keystroke; so matching runs in memory over a snapshot of the whole catalogue that storage keeps
current. Run history is never searched: a run is found only by its exact id.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from functools import cached_property
from typing import NamedTuple, Protocol
from uuid import UUID

from domain.catalogue.entities import Group, Release, Test
from domain.errors import InvalidInput
from domain.runs.entities import Run
from domain.runs.ports import RunRepository

MAX_HITS = 100
MAX_QUERY_LENGTH = 500


class HitType(enum.StrEnum):
    """What a hit is; the search box shows a different label for each."""

    RELEASE = "release"
    GROUP = "group"
    TEST = "test"
    RUN = "run"


_FACET_TYPES = (HitType.RELEASE, HitType.GROUP, HitType.TEST)


@dataclass(frozen=True)
class CatalogueSnapshot:
    """Every release, group and test at one moment."""

    releases: tuple[Release, ...] = ()
    groups: tuple[Group, ...] = ()
    tests: tuple[Test, ...] = ()

    @cached_property
    def release_by_id(self) -> dict[UUID, Release]:
        """Releases by id."""
        return {r.id: r for r in self.releases}

    @cached_property
    def group_by_id(self) -> dict[UUID, Group]:
        """Groups by id."""
        return {g.id: g for g in self.groups}

    @cached_property
    def test_by_id(self) -> dict[UUID, Test]:
        """Tests by id."""
        return {t.id: t for t in self.tests}

    @cached_property
    def index(self) -> tuple[_Entry, ...]:
        """What searches filter: every entry, prepared once per snapshot."""
        return _index(self)


class CatalogueSnapshots(Protocol):
    """A current view of the whole catalogue; implementations may cache it between catalogue writes."""

    async def current(self) -> CatalogueSnapshot:
        """The catalogue as of no earlier than the last completed write."""
        ...


@dataclass(frozen=True)
class SearchHit:
    """One match with the catalogue entries above it (none for a release)."""

    type: HitType
    entity: Release | Group | Test | Run
    release: Release | None = None
    group: Group | None = None
    test: Test | None = None


@dataclass(frozen=True)
class SearchResult:
    """The first ``MAX_HITS`` matches and how many there were in all."""

    hits: list[SearchHit]
    total: int


@dataclass(frozen=True)
class SearchQuery:
    """A parsed query: free text plus ``release:``, ``group:`` and ``type:`` facets."""

    text: str = ""
    releases: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    types: frozenset[HitType] = field(default_factory=lambda: frozenset(_FACET_TYPES))

    @classmethod
    def parse(cls, raw: str) -> SearchQuery:
        """Split facets (``key:value`` words, keys case-insensitive) from the free text."""
        if len(raw) > MAX_QUERY_LENGTH:
            raise InvalidInput(f"query must be at most {MAX_QUERY_LENGTH} characters", len(raw))
        words, releases, groups, types = [], [], [], set()
        for word in raw.split():
            key, sep, value = word.partition(":")
            facet = key.lower() if sep else ""
            if facet == "release":
                releases.append(value.lower())
            elif facet == "group":
                groups.append(value.lower())
            elif facet == "type":
                try:
                    types.add(HitType(value.lower()))
                except ValueError:
                    raise InvalidInput(f"type must be one of {[t.value for t in _FACET_TYPES]}", value) from None
                if types & {HitType.RUN}:
                    raise InvalidInput("runs are found by their id, not by type:run", value)
            else:
                words.append(word)
        return cls(text=" ".join(words).lower(), releases=tuple(v for v in releases if v),
                   groups=tuple(v for v in groups if v), types=frozenset(types or _FACET_TYPES))


def _searchable(entity: Release | Group | Test | None) -> str | None:
    """The lowercased name and pretty name, kept apart so a match never spans both."""
    return None if entity is None else f"{entity.name.lower()}\x00{(entity.pretty_name or '').lower()}"


class _Entry(NamedTuple):
    """One catalogue entry with everything a query compares already lowercased and resolved."""

    hit: SearchHit
    text: str
    name: str
    order: int
    release_id: UUID
    release_text: str | None
    group_text: str | None

    def matches(self, query: SearchQuery, release_id: UUID | None) -> bool:
        return (self.hit.type in query.types and query.text in self.text
                and (release_id is None or self.release_id == release_id)
                and (not query.releases or (self.release_text is not None
                                            and all(n in self.release_text for n in query.releases)))
                and (not query.groups or (self.group_text is not None
                                          and all(n in self.group_text for n in query.groups))))


def _index(snapshot: CatalogueSnapshot) -> tuple[_Entry, ...]:
    """Entries in hit order (releases, groups, tests), built once per snapshot."""
    entries = []
    for release in snapshot.releases:
        text = _searchable(release)
        entries.append(_Entry(SearchHit(HitType.RELEASE, release), text or "", release.name.lower(), 0, release.id,
                              text, None))
    for group in snapshot.groups:
        release = snapshot.release_by_id.get(group.release_id)
        text = _searchable(group)
        entries.append(_Entry(SearchHit(HitType.GROUP, group, release=release), text or "", group.name.lower(), 1,
                              group.release_id, _searchable(release), text))
    for test in snapshot.tests:
        release, group = snapshot.release_by_id.get(test.release_id), snapshot.group_by_id.get(test.group_id)
        entries.append(_Entry(SearchHit(HitType.TEST, test, release=release, group=group), _searchable(test) or "",
                              test.name.lower(), 2, test.release_id, _searchable(release), _searchable(group)))
    return tuple(entries)


def _as_uuid(raw: str) -> UUID | None:
    try:
        return UUID(raw.strip())
    except ValueError:
        return None


class CatalogueSearch:
    """Answers the search box from a catalogue snapshot and, for an id, one run lookup."""

    def __init__(self, snapshots: CatalogueSnapshots, runs: RunRepository) -> None:
        self._snapshots = snapshots
        self._runs = runs

    async def search(self, raw_query: str, release_id: UUID | None = None) -> SearchResult:
        """Matches in the order releases, groups, tests; within each, exact names, then prefixes, then the rest."""
        snapshot = await self._snapshots.current()
        run_id = _as_uuid(raw_query)
        if run_id is not None:
            return await self._by_id(snapshot, run_id, release_id)
        query = SearchQuery.parse(raw_query)
        found = [entry for entry in snapshot.index if entry.matches(query, release_id)]
        text = query.text
        found.sort(key=lambda e: (e.order, 0 if e.name == text else 1 if e.name.startswith(text) else 2, e.name))
        return SearchResult(hits=[entry.hit for entry in found[:MAX_HITS]], total=len(found))

    async def _by_id(self, snapshot: CatalogueSnapshot, entity_id: UUID, release_id: UUID | None) -> SearchResult:
        """A pasted id: the run with it (the search box's purpose), else the catalogue entry with it."""
        hit: SearchHit | None = None
        run = await self._runs.get(entity_id)
        if run is not None:
            test = snapshot.test_by_id.get(run.test_id) if run.test_id else None
            hit = SearchHit(HitType.RUN, run, test=test,
                            group=snapshot.group_by_id.get(run.group_id) if run.group_id else None,
                            release=snapshot.release_by_id.get(run.release_id) if run.release_id else None)
        elif (release := snapshot.release_by_id.get(entity_id)) is not None:
            hit = SearchHit(HitType.RELEASE, release)
        elif (group := snapshot.group_by_id.get(entity_id)) is not None:
            hit = SearchHit(HitType.GROUP, group, release=snapshot.release_by_id.get(group.release_id))
        elif (test := snapshot.test_by_id.get(entity_id)) is not None:
            hit = SearchHit(HitType.TEST, test, release=snapshot.release_by_id.get(test.release_id),
                            group=snapshot.group_by_id.get(test.group_id))
        if hit is None or (release_id is not None and _release_of(hit) != release_id):
            return SearchResult(hits=[], total=0)
        return SearchResult(hits=[hit], total=1)


def _release_of(hit: SearchHit) -> UUID | None:
    if isinstance(hit.entity, Release):
        return hit.entity.id
    return hit.release.id if hit.release else None
