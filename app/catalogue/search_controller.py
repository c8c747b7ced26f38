"""``GET /api/v1/planning/search``: the global search box over releases, groups, tests and runs."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from app.envelope import Ok, ok
from app.runs.schemas import RunShort
from app.security import LOGIN, login_required
from app.wire import parse_uuid
from domain.catalogue.entities import Group, Release, Test
from domain.catalogue.search import MAX_QUERY_LENGTH, CatalogueSearch, SearchHit
from domain.runs.entities import Run


class ReleaseHit(Release, kw_only=True, tag_field="type", tag="release"):
    """A release found by name."""


class GroupHit(Group, kw_only=True, tag_field="type", tag="group"):
    """A group found by name, with its release."""

    release: Release | None


class TestHit(Test, kw_only=True, tag_field="type", tag="test"):
    """A test found by name, with its group and release."""

    __test__ = False

    release: Release | None
    group: Group | None


class RunHit(RunShort, kw_only=True, tag_field="type", tag="run"):
    """A run found by its id, with the catalogue entries it belongs to."""

    release: Release | None
    group: Group | None
    test: Test | None


Hit = ReleaseHit | GroupHit | TestHit | RunHit


class SearchAnswer(msgspec.Struct):
    """The first hits and how many matched in all."""

    hits: list[Hit]
    total: int


def _wire(hit: SearchHit) -> Hit:
    entity = hit.entity
    if isinstance(entity, Run):
        short = msgspec.structs.asdict(RunShort.of(entity))
        return RunHit(**short, release=hit.release, group=hit.group, test=hit.test)
    fields = msgspec.structs.asdict(entity)
    if isinstance(entity, Release):
        return ReleaseHit(**fields)
    if isinstance(entity, Group):
        return GroupHit(**fields, release=hit.release)
    return TestHit(**fields, release=hit.release, group=hit.group)


class SearchController(Controller):
    """The search box of the workspace, the plan editor and the view editor."""

    path = "/api/v1/planning"
    tags = ["catalogue"]
    guards = [login_required]
    opt = LOGIN

    @get("/search", operation_id="searchCatalogue")
    async def search(
        self, catalogue_search: NamedDependency[CatalogueSearch],
        text: Annotated[str, QueryParameter(name="query", max_length=MAX_QUERY_LENGTH, description=(
            "free text plus release:<name>, group:<name>, type:<release|group|test>; a UUID finds a run"))] = "",
        release_id: Annotated[str | None, QueryParameter(name="releaseId")] = None,
    ) -> Ok[SearchAnswer]:
        """Releases, groups and tests whose name contains the text, or the run with a pasted id."""
        result = await catalogue_search.search(text, parse_uuid(release_id, "release id") if release_id else None)
        return ok(SearchAnswer(hits=[_wire(hit) for hit in result.hits], total=result.total))
