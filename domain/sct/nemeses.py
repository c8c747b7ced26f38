"""Nemeses of SCT runs: disruptions SCT starts and later reports the outcome of.

A nemesis is identified by (run, start_time); submit and finalize are both idempotent because the
client re-sends POSTs after a timeout. Statistics are recomputed from the run's nemeses (a few
hundred at most) rather than kept as a counter map in the run row: a read-modify-write of the run's
details would lose increments when nemeses of one run are submitted concurrently, and a re-sent
call could count twice.
"""

from __future__ import annotations

import enum
from collections import Counter
from typing import Any, Protocol
from uuid import UUID

import msgspec

from domain.clock import Clock
from domain.errors import InvalidInput, NotFound
from domain.runs.plugins import PluginName
from domain.runs.service import RunService


class NemesisStatus(enum.StrEnum):
    """Nemesis outcomes exactly as ``argus-alm`` sends them."""

    STARTED = "started"
    RUNNING = "running"
    FAILED = "failed"
    SKIPPED = "skipped"
    SUCCEEDED = "succeeded"
    TERMINATED = "terminated"


class NemesisNotFound(NotFound):
    """Finalize named a nemesis the run never submitted."""


class TargetNode(msgspec.Struct):
    """The node a nemesis disrupted."""

    name: str
    ip: str
    shards: int


class Nemesis(msgspec.Struct, kw_only=True):
    """One nemesis as stored and listed; times are epoch seconds as the existing service keeps them."""

    run_id: UUID
    start_time: int
    name: str
    class_name: str
    target_node: TargetNode
    status: NemesisStatus = NemesisStatus.RUNNING
    end_time: int = 0
    duration: int = 0
    stack_trace: str = ""


class NemesisRepository(Protocol):
    """Nemeses in their run's partition, by start time."""

    async def add(self, nemesis: Nemesis) -> bool:
        """Store unless the run has a nemesis at that start time; say whether it was stored."""
        ...

    async def get(self, run_id: UUID, start_time: int) -> Nemesis | None:
        """The nemesis at that start time."""
        ...

    async def finish(self, nemesis: Nemesis) -> bool:
        """Write the outcome only while the stored nemesis is still running; say whether it applied."""
        ...

    async def for_run(self, run_id: UUID) -> list[Nemesis]:
        """Every nemesis of the run, by start time."""
        ...


def parse_nemesis_status(raw: str) -> NemesisStatus:
    """A ``NemesisStatus`` value, or ``InvalidInput`` listing the accepted ones."""
    try:
        return NemesisStatus(raw)
    except ValueError:
        allowed = ", ".join(s.value for s in NemesisStatus)
        raise InvalidInput(f"{raw!r} is not a valid NemesisStatus (one of: {allowed})", str(raw)) from None


def nemesis_stats(nemeses: list[Nemesis]) -> dict[str, int]:
    """``{"total": n, <status>: n}``: submits count in total, finished nemeses under their status."""
    finished = Counter(n.status.value for n in nemeses if n.status is not NemesisStatus.RUNNING)
    return {"total": len(nemeses), **finished}


class NemesisService:
    """Submit, finalize and list the nemeses of SCT runs."""

    def __init__(self, runs: RunService, nemeses: NemesisRepository, clock: Clock) -> None:
        self._runs = runs
        self._nemeses = nemeses
        self._clock = clock

    async def submit(self, run_id: UUID, *, name: str, class_name: str, start_time: int, node_name: str,
                     node_ip: str, node_shards: int) -> bool:
        """Record a started nemesis; one already at that start time is left as it is (returns False)."""
        run = await self._runs.require(PluginName.SCT, run_id)
        return await self._nemeses.add(Nemesis(
            run_id=run.id, start_time=start_time, name=name, class_name=class_name,
            target_node=TargetNode(name=node_name, ip=node_ip, shards=node_shards)))

    async def finalize(self, run_id: UUID, *, name: str, start_time: int, status: str, message: str) -> None:
        """Record the outcome once; a nemesis already finished keeps its first outcome."""
        outcome = parse_nemesis_status(status)
        run = await self._runs.require(PluginName.SCT, run_id)
        nemesis = await self._nemeses.get(run.id, start_time)
        if nemesis is None:
            raise NemesisNotFound("Nemesis not found", name, start_time)
        if nemesis.status is not NemesisStatus.RUNNING:
            return
        end = int(self._clock.now().timestamp())
        nemesis.status, nemesis.stack_trace = outcome, message
        nemesis.end_time, nemesis.duration = end, end - nemesis.start_time
        await self._nemeses.finish(nemesis)

    async def for_run(self, run_id: UUID) -> list[Nemesis]:
        """The run's nemeses, by start time."""
        run = await self._runs.require(PluginName.SCT, run_id)
        return await self._nemeses.for_run(run.id)

    async def run_fields(self, run_id: UUID) -> dict[str, Any]:
        """What the run page shows beside an SCT run: its nemeses and their statistics."""
        nemeses = await self._nemeses.for_run(run_id)
        return {"nemesis_data": nemeses, "nemesis_stats": nemesis_stats(nemeses)}
