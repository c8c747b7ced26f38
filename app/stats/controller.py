"""Release dashboard routes: the status board and the version and image lists of its filters."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter

from app.caching import REVALIDATE, etag_response
from app.envelope import Ok, ok
from app.security import LOGIN, login_required
from app.wire import format_datetime, parse_uuid
from domain.stats.entities import DormantRelease, ReleaseStats, StatsFilter
from domain.stats.service import ReleaseStatsService

# The existing UI sends these flags as 0/1 integers.
Flag = Annotated[int, QueryParameter(ge=0, le=1, description="0 or 1")]
MAX_FILTER_LENGTH = 500


def _wire_board(board: ReleaseStats | DormantRelease) -> dict[str, Any]:
    """The board as builtins with its datetimes in the wire format (milliseconds, ``Z``) the UI parses.

    Only tiles hold datetimes, so they are formatted where they are; walking every node of a board
    of a few hundred tiles (``app.wire.jsonable``) would double the cost of this polled route.
    """
    payload: dict[str, Any] = msgspec.to_builtins(board, builtin_types=(datetime,))
    for group in payload.get("groups", {}).values():
        for tile in group["tests"].values():
            if tile["start_time"] is not None:
                tile["start_time"] = format_datetime(tile["start_time"])
            for run in tile["last_runs"]:
                run["start_time"] = format_datetime(run["start_time"])
                run["end_time"] = format_datetime(run["end_time"])
    return payload


class StatsController(Controller):
    """The board the release page and the workspace poll every few minutes."""

    path = "/api/v1/release"
    tags = ["release dashboard"]
    guards = [login_required]
    opt = LOGIN

    @get("/stats/v2", operation_id="getReleaseStats")
    async def release_stats(
        self, request: Request[Any, Any, Any], stats: NamedDependency[ReleaseStatsService],
        release: Annotated[str, QueryParameter(min_length=1, max_length=MAX_FILTER_LENGTH,
                                               description="release name")],
        limited: Flag, force: Flag,
        product_version: Annotated[str | None, QueryParameter(
            name="productVersion", max_length=MAX_FILTER_LENGTH,
            description="version prefix, or !noVersion for runs without a version")] = None,
        image_id: Annotated[str | None, QueryParameter(name="imageId", max_length=MAX_FILTER_LENGTH)] = None,
        include_no_version: Annotated[int, QueryParameter(name="includeNoVersion", ge=0, le=1)] = 0,
    ) -> Response[Ok[ReleaseStats | DormantRelease]]:
        """The status board of a release (``{"dormant": true}`` for a dormant one unless forced); ETag-validated."""
        stats_filter = StatsFilter(product_version=product_version or None, image_id=image_id or None,
                                   include_no_version=bool(include_no_version))
        board = await stats.board(release, stats_filter, limited=bool(limited), force=bool(force))
        return etag_response(request, _wire_board(board), REVALIDATE)

    @get("/{release_id:str}/versions", operation_id="listReleaseVersions")
    async def versions(self, stats: NamedDependency[ReleaseStatsService],
                       release_id: FromPath[str]) -> Ok[list[str]]:
        """Distinct product versions of the release's runs, sorted."""
        return ok(await stats.versions(parse_uuid(release_id, "release id")))

    @get("/{release_id:str}/images", operation_id="listReleaseImages")
    async def images(self, stats: NamedDependency[ReleaseStatsService],
                     release_id: FromPath[str]) -> Ok[list[str]]:
        """Distinct DB-node image ids of the release's runs, sorted."""
        return ok(await stats.images(parse_uuid(release_id, "release id")))
