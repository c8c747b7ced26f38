"""Catalogue routes with the existing service's paths, parameters and field names."""

from __future__ import annotations

from typing import Annotated, TypeVar
from uuid import UUID

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from app.catalogue.schemas import GroupCreated, ReleaseCreated, ReleaseSpec, TestInfo
from app.envelope import Ok, ok
from app.runs.schemas import PluginChange
from app.security import LOGIN, login_required
from domain.catalogue.entities import Group, GroupPlan, Release, ReleasePlan, Test
from domain.catalogue.service import CatalogueService
from domain.runs.service import parse_run_type

T = TypeVar("T")
# The existing service lets browsers cache catalogue listings for a minute.
CACHE_MINUTE = {"Cache-Control": "max-age=60"}
IncludeAll = Annotated[str | None, QueryParameter(name="all", description="any non-empty value includes disabled")]


def _cached(payload: T) -> Response[Ok[T]]:
    return Response(ok(payload), headers=CACHE_MINUTE)


class CatalogueController(Controller):
    """Releases, groups and tests; read by every page, written by administrators and CI."""

    path = "/api/v1"
    tags = ["catalogue"]
    guards = [login_required]
    opt = LOGIN

    @get("/releases", operation_id="listReleases")
    async def list_releases(self, catalogue: NamedDependency[CatalogueService],
                            include_all: IncludeAll = None) -> Response[Ok[list[Release]]]:
        """Enabled releases (all with ``?all=1``)."""
        return _cached(await catalogue.list_releases(include_disabled=bool(include_all)))

    @get("/groups", operation_id="listGroups")
    async def list_groups(self, catalogue: NamedDependency[CatalogueService],
                          release_id: Annotated[UUID, QueryParameter(name="releaseId")],
                          include_all: IncludeAll = None) -> Response[Ok[list[Group]]]:
        """Groups of a release."""
        groups = await catalogue.list_groups(release_id, include_disabled=bool(include_all))
        return _cached(groups)

    @get("/tests", operation_id="listTests")
    async def list_tests(self, catalogue: NamedDependency[CatalogueService],
                         group_id: Annotated[UUID, QueryParameter(name="groupId")],
                         include_all: IncludeAll = None) -> Response[Ok[list[Test]]]:
        """Tests of a group."""
        tests = await catalogue.list_tests(group_id, include_disabled=bool(include_all))
        return _cached(tests)

    @get("/release/{release_id:uuid}/details", operation_id="getRelease")
    async def release_details(self, catalogue: NamedDependency[CatalogueService],
                              release_id: FromPath[UUID]) -> Response[Ok[Release]]:
        """One release."""
        return _cached(await catalogue.get_release(release_id))

    @get("/group/{group_id:uuid}/details", operation_id="getGroup")
    async def group_details(self, catalogue: NamedDependency[CatalogueService],
                            group_id: FromPath[UUID]) -> Response[Ok[Group]]:
        """One group."""
        return _cached(await catalogue.get_group(group_id))

    @get("/test/{test_id:uuid}/details", operation_id="getTest")
    async def test_details(self, catalogue: NamedDependency[CatalogueService],
                           test_id: FromPath[UUID]) -> Response[Ok[Test]]:
        """One test."""
        return _cached(await catalogue.get_test(test_id))

    @post("/test/{test_id:uuid}/set_plugin", operation_id="setTestPlugin", status_code=200)
    async def set_plugin(self, catalogue: NamedDependency[CatalogueService], test_id: FromPath[UUID],
                         data: JSONBody[PluginChange]) -> Ok[Test]:
        """Set the run type of a test's runs; the name must be a known run type."""
        plugin = parse_run_type(data.plugin_name)
        return ok(await catalogue.set_plugin(await catalogue.get_test(test_id), plugin))

    @get("/test-info", operation_id="getTestInfo")
    async def test_info(self, catalogue: NamedDependency[CatalogueService],
                        test_id: Annotated[UUID, QueryParameter(name="testId")]) -> Ok[TestInfo]:
        """A test with its group and release, for page headers."""
        test, group, release = await catalogue.test_with_parents(test_id)
        return ok(TestInfo(test=test, group=group, release=release))

    @post("/release/create", operation_id="createReleases", status_code=200)
    async def create_releases(self, catalogue: NamedDependency[CatalogueService],
                              data: JSONBody[dict[str, ReleaseSpec]]) -> Ok[dict[str, ReleaseCreated]]:
        """Create releases with their groups and tests; all or nothing when a name is taken."""
        plans = [ReleasePlan(name=name, pretty_name=spec.pretty_name,
                             groups=tuple(GroupPlan(name=g, pretty_name=gs.pretty_name, tests=tuple(gs.tests))
                                          for g, gs in spec.groups.items()))
                 for name, spec in data.items()]
        await catalogue.create_releases(plans)
        return ok({plan.name: ReleaseCreated(groups={
            g.name: GroupCreated(status="created", tests=dict.fromkeys(g.tests, "created")) for g in plan.groups})
            for plan in plans})
