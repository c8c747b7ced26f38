"""Release dashboard use cases: the board, and the version and image lists its filters offer.

The board is computed on every request from the per-test summaries (one partition read) and the
catalogue (one read per group), never from a stored snapshot: there is nothing to invalidate, so a
status change is visible on the next poll whichever call made it, and a prefix filter can never
serve a stale copy (the existing service's snapshot bugs).
"""

from __future__ import annotations

import asyncio
from uuid import UUID

from domain.catalogue.entities import Release
from domain.catalogue.ports import CatalogueRepository
from domain.errors import NotFound
from domain.runs.ports import SummaryRepository
from domain.stats.dashboard import release_stats
from domain.stats.entities import DormantRelease, ReleaseStats, StatsFilter
from domain.stats.ports import ReleaseFacetRepository

# The pickers list at most this many values; a release with more has a versioning problem to fix.
MAX_FACETS = 1000


class ReleaseStatsService:
    """The status board of a release and its filter values."""

    def __init__(self, catalogue: CatalogueRepository, summaries: SummaryRepository,
                 facets: ReleaseFacetRepository) -> None:
        self._catalogue = catalogue
        self._summaries = summaries
        self._facets = facets

    async def board(self, release_name: str, stats_filter: StatsFilter, *, limited: bool,
                    force: bool) -> ReleaseStats | DormantRelease:
        """The board of the named release; a dormant release answers ``dormant`` unless ``force``d."""
        release = await self._catalogue.release_by_name(release_name)
        if release is None:
            raise NotFound(f"Release {release_name} not found", release_name)
        if release.dormant and not force:
            return DormantRelease()
        groups, summaries = await asyncio.gather(self._catalogue.list_groups(release.id),
                                                 self._summaries.for_release(release.id))
        enabled = [g for g in groups if g.enabled]
        tests = await asyncio.gather(*(self._catalogue.list_tests(g.id) for g in enabled))
        runs_by_test = {str(s.test_id): s.last_runs for s in summaries}
        return release_stats(release, zip(enabled, tests, strict=True), runs_by_test, stats_filter, limited=limited)

    async def versions(self, release_id: UUID) -> list[str]:
        """Product versions the release's runs reported, sorted."""
        await self._release(release_id)
        return await self._facets.versions(release_id, MAX_FACETS)

    async def images(self, release_id: UUID) -> list[str]:
        """DB-node image ids the release's runs used, sorted."""
        await self._release(release_id)
        return await self._facets.images(release_id, MAX_FACETS)

    async def _release(self, release_id: UUID) -> Release:
        release = await self._catalogue.get_release(release_id)
        if release is None:
            raise NotFound(f"Release {release_id} not found", str(release_id))
        return release
