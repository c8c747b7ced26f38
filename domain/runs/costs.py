"""Run costs reported by newer clients (argus-alm 0.16.5+): an estimate up front, priced items later."""

from __future__ import annotations

import math
from typing import Any
from uuid import UUID

import msgspec

from domain.errors import InvalidInput
from domain.runs.entities import Run
from domain.runs.errors import RunNotFound
from domain.runs.service import RunService

MAX_ITEMS_PER_RUN = 10_000


class CostItem(msgspec.Struct, kw_only=True):
    """The final price of one named resource, in USD; a repeated name replaces the item."""

    name: str
    category: str
    cost: float
    pricing_tier: str | None = None
    leaked: bool = False


def _amount(value: float, what: str) -> float:
    if not math.isfinite(value) or value < 0:
        raise InvalidInput(f"{what} must be a finite amount of zero or more, got {value!r}", str(value))
    return float(value)


class CostService:
    """Keeps a run's estimated cost and priced items; the actual cost is the items' sum."""

    def __init__(self, runs: RunService) -> None:
        self._runs = runs

    async def set_estimate(self, run_id: UUID, value: float) -> None:
        """Replace the run's estimated cost."""
        amount = _amount(value, "value")
        run = await self._require(run_id)
        if run.details.get("estimated_cost") != amount:
            await self._runs.apply(run, {"details": {**run.details, "estimated_cost": amount}})

    async def submit_items(self, run_id: UUID, items: list[CostItem]) -> None:
        """Add or replace priced items by name and recompute the actual cost."""
        names = [item.name for item in items]
        if len(set(names)) != len(names):
            raise InvalidInput("cost item names must be unique within one call")
        for item in items:
            if not item.name:
                raise InvalidInput("cost item name must not be empty")
            _amount(item.cost, f"cost of {item.name}")
        run = await self._require(run_id)
        stored: dict[str, Any] = dict(run.details.get("cost_items", {}))
        stored.update({item.name: msgspec.to_builtins(item) for item in items})
        if len(stored) > MAX_ITEMS_PER_RUN:
            raise InvalidInput(f"a run keeps at most {MAX_ITEMS_PER_RUN} cost items")
        actual = round(sum(float(i["cost"]) for i in stored.values()), 6)
        details = {**run.details, "cost_items": stored, "actual_cost": actual}
        if details != run.details:
            await self._runs.apply(run, {"details": details})

    async def _require(self, run_id: UUID) -> Run:
        run = await self._runs.find_any(run_id)
        if run is None:
            raise RunNotFound(f"Run {run_id} not found", str(run_id))
        return run
