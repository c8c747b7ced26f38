"""Per-type run data stored beside the run: sirenada cases and pytest reports (JSON documents)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

from domain.concurrency import bounded_gather
from domain.runs.driver_matrix import TestCollection
from domain.runs.pytest_results import PytestResult
from domain.runs.sirenada import SirenadaCase
from infrastructure.storage import tables
from infrastructure.storage.store import Bound, TableStore

_case = msgspec.json.Decoder(SirenadaCase)
_collection = msgspec.json.Decoder(TestCollection)
_result = msgspec.json.Decoder(PytestResult)
MAX_ROWS_PER_RUN = 100_000


class StoreDriverCollectionRepository:
    """Collections in their run's partition, one row per driver version name."""

    def __init__(self, store: TableStore) -> None:
        self._store = store

    async def add(self, run_id: UUID, collection: TestCollection) -> bool:
        """Insert unless the name is taken (a lightweight transaction, so racing retries store one)."""
        return await self._store.insert(tables.driver_collections, {
            "run_id": run_id, "name": collection.name, "driver_type": collection.driver,
            "data": msgspec.json.encode(collection).decode()}, if_not_exists=True)

    async def exists(self, run_id: UUID, name: str) -> bool:
        """A key read of the name only."""
        return await self._store.get(tables.driver_collections, {"run_id": run_id, "name": name},
                                     columns=["name"]) is not None

    async def for_run(self, run_id: UUID) -> list[TestCollection]:
        """One partition read."""
        page = await self._store.select(tables.driver_collections, {"run_id": run_id}, limit=MAX_ROWS_PER_RUN)
        return [_collection.decode(row["data"]) for row in page.rows]


class StoreSirenadaRepository:
    """Cases in their run's partition, keyed by the case's identity."""

    def __init__(self, store: TableStore, concurrency: int) -> None:
        self._store = store
        self._concurrency = concurrency

    async def save_cases(self, run_id: UUID, cases: list[SirenadaCase]) -> None:
        """Upsert each case."""
        await bounded_gather((self._store.insert(tables.sirenada_cases, {
            "run_id": run_id, "case_key": case.key, "data": msgspec.json.encode(case).decode()}) for case in cases),
            self._concurrency)

    async def cases(self, run_id: UUID) -> list[SirenadaCase]:
        """One partition read."""
        page = await self._store.select(tables.sirenada_cases, {"run_id": run_id}, limit=MAX_ROWS_PER_RUN)
        return [_case.decode(row["data"]) for row in page.rows]


class StorePytestResultRepository:
    """Reports written twice: by test name for statistics, by run for the run page."""

    def __init__(self, store: TableStore) -> None:
        self._store = store

    async def save(self, result: PytestResult) -> None:
        """Upsert into both tables; the same report re-sent lands on the same rows."""
        data = msgspec.json.encode(result).decode()
        await self._store.insert(tables.pytest_results, {"name": result.name, "id": result.id,
                                                         "status": result.status, "run_id": result.run_id,
                                                         "data": data})
        await self._store.insert(tables.pytest_results_by_run, {"run_id": result.run_id, "name": result.name,
                                                                "id": result.id, "status": result.status,
                                                                "data": data})

    async def latest_for_name(self, name: str, limit: int, since: datetime | None) -> list[PytestResult]:
        """The head of the name's partition, bounded by ``since`` when given."""
        bounds = [Bound("id", ">", since)] if since else []
        page = await self._store.select(tables.pytest_results, {"name": name}, bounds=bounds, limit=limit)
        return [_result.decode(row["data"]) for row in page.rows]

    async def for_run(self, run_id: UUID) -> list[PytestResult]:
        """One partition read."""
        page = await self._store.select(tables.pytest_results_by_run, {"run_id": run_id}, limit=MAX_ROWS_PER_RUN)
        return [_result.decode(row["data"]) for row in page.rows]
