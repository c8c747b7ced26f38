"""A run with everything its type keeps beside it, as run pages and the client's ``get`` show it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

from domain.runs.entities import Run
from domain.runs.plugins import PluginName
from domain.runs.service import RunService

TypeFields = Callable[[UUID], Awaitable[dict[str, Any]]]


def combined(*providers: TypeFields) -> TypeFields:
    """One provider reading several features' fields of a run type concurrently (SCT keeps many tables)."""

    async def fields(run_id: UUID) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        for part in await asyncio.gather(*(provider(run_id) for provider in providers)):
            merged.update(part)
        return merged

    return fields


class RunReader:
    """Joins a run with the per-type data stored in tables of its own."""

    def __init__(self, runs: RunService, type_fields: dict[PluginName, TypeFields]) -> None:
        self._runs = runs
        self._type_fields = type_fields

    async def read(self, run_type: PluginName, run_id: UUID) -> tuple[Run, dict[str, Any]] | None:
        """The run and its type's extra fields, or None when there is no such run."""
        run = await self._runs.find(run_type, run_id)
        if run is None:
            return None
        fields = self._type_fields.get(run_type)
        return run, (await fields(run.id) if fields else {})
