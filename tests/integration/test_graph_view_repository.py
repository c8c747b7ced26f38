"""Graph views on every storage engine: listing order, replacing, and the conditional update.

The scylla keyspace is shared by the session, so every test works under its own random test id.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from domain.results.graph_views import GraphView
from infrastructure.storage.graph_view_repository import StoreGraphViewRepository
from infrastructure.storage.store import TableStore

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def repository(engine: TableStore) -> StoreGraphViewRepository:
    return StoreGraphViewRepository(engine)


async def test_views_list_in_creation_order_per_test(repository: StoreGraphViewRepository) -> None:
    test_id, other = uuid.uuid4(), uuid.uuid4()
    views = [GraphView(test_id=test_id, id=uuid.uuid4(), name=f"view {n}", description="d",
                       graphs={"perf - p99": "{}"} if n else {}) for n in range(3)]
    for n, view in reversed(list(enumerate(views))):  # stored newest first: the listing must still sort
        await repository.add_view(view, T0 + timedelta(minutes=n))
    await repository.add_view(GraphView(test_id=other, id=uuid.uuid4(), name="elsewhere"), T0)

    assert await repository.list_views(test_id, limit=10) == views
    assert [v.name for v in await repository.list_views(other, limit=10)] == ["elsewhere"]
    assert await repository.list_views(uuid.uuid4(), limit=10) == []


async def test_replace_overwrites_every_field_of_an_existing_view_only(repository: StoreGraphViewRepository
                                                                       ) -> None:
    test_id = uuid.uuid4()
    view = GraphView(test_id=test_id, id=uuid.uuid4(), name="v", description="d",
                     graphs={"a - x": "{}", "a - y": '{"size": 2}'})
    await repository.add_view(view, T0)

    fewer = GraphView(test_id=test_id, id=view.id, name="renamed", description="", graphs={"a - y": "{}"})
    assert await repository.replace_view(fewer) is True
    assert await repository.list_views(test_id, limit=10) == [fewer]
    emptied = GraphView(test_id=test_id, id=view.id, name="renamed", graphs={})
    assert await repository.replace_view(emptied) is True
    assert await repository.list_views(test_id, limit=10) == [emptied]

    absent = GraphView(test_id=test_id, id=uuid.uuid4(), name="ghost", graphs={"a - x": "{}"})
    assert await repository.replace_view(absent) is False
    elsewhere = GraphView(test_id=uuid.uuid4(), id=view.id, name="wrong test")
    assert await repository.replace_view(elsewhere) is False
    assert await repository.list_views(test_id, limit=10) == [emptied]
    assert await repository.list_views(elsewhere.test_id, limit=10) == []
