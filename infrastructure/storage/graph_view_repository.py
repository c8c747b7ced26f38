"""Graph views on the table layer: one partition per test, so the results page lists them in one read.

A view is replaced only if it exists (a conditional update), so an update racing a delete or naming
a view of another test never creates a half-filled row.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from domain.results.graph_views import GraphView
from infrastructure.storage import tables
from infrastructure.storage.store import TableStore


def _view(row: dict[str, Any]) -> GraphView:
    return GraphView(test_id=row["test_id"], id=row["id"], name=row["name"] or "",
                     description=row["description"] or "", graphs=dict(row["graphs"] or {}))


class StoreGraphViewRepository:
    """Implements ``GraphViewRepository``."""

    def __init__(self, store: TableStore) -> None:
        self._store = store

    async def list_views(self, test_id: UUID, limit: int) -> list[GraphView]:
        """The test's partition, in creation order (ids are random, so the stored time orders them)."""
        page = await self._store.select(tables.result_graph_views, {"test_id": test_id}, limit=limit)
        return [_view(r) for r in sorted(page.rows, key=lambda r: (r["created_at"], str(r["id"])))]

    async def add_view(self, view: GraphView, created_at: datetime) -> None:
        """One insert."""
        await self._store.insert(tables.result_graph_views, {
            "test_id": view.test_id, "id": view.id, "name": view.name, "description": view.description,
            "graphs": view.graphs, "created_at": created_at})

    async def replace_view(self, view: GraphView) -> bool:
        """Conditional on the row existing."""
        return await self._store.update(tables.result_graph_views, {"test_id": view.test_id, "id": view.id},
                                        {"name": view.name, "description": view.description, "graphs": view.graphs},
                                        if_exists=True)
