"""What the dashboard needs from storage beyond the catalogue and the test summaries."""

from __future__ import annotations

from typing import Protocol
from uuid import UUID


class ReleaseFacetRepository(Protocol):
    """Distinct values seen in a release's runs, indexed as runs are written."""

    async def versions(self, release_id: UUID, limit: int) -> list[str]:
        """Up to ``limit`` product versions, sorted."""
        ...

    async def images(self, release_id: UUID, limit: int) -> list[str]:
        """Up to ``limit`` DB-node image ids, sorted."""
        ...
