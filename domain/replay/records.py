"""Replay-log records: parsing the JSONL lines clients wrote, and the order a replay sends them in.

The ``argus-alm`` client records every POST with the endpoint *template* and its location
parameters. Replaying them in recorded order is not enough: logs from several processes
interleave, a heartbeat only matters once, and a terminal status or finalize sent before the
run's other data would make the run look finished while data still arrives. So a replay sends
submits first, the run's data next, then the last heartbeat, terminal statuses and finalize.
"""

from __future__ import annotations

import json
import re
from enum import IntEnum
from typing import Any

import msgspec

SUBMIT = "/testrun/$type/submit"
HEARTBEAT = "/testrun/$type/$id/heartbeat"
SET_STATUS = "/testrun/$type/$id/set_status"
FINALIZE = "/testrun/$type/$id/finalize"
# Calls with effects outside Argus (mail, CI job triggers): replaying them hours later would
# mail people or start jobs again, so they are never sent.
EXTERNAL_SIDE_EFFECTS = frozenset({"/testrun/report/email", "/planning/plan/trigger"})
TERMINAL_STATUSES = frozenset({"failed", "aborted", "passed", "error", "test_error", "notrun", "not_run"})
_PLACEHOLDER = re.compile(r"\$(\w+)")


class Phase(IntEnum):
    """Where a record goes in the replay order (lower first)."""

    SUBMIT = 0
    DATA = 1
    HEARTBEAT = 2
    TERMINAL_STATUS = 3
    FINALIZE = 4


class ReplayRecord(msgspec.Struct):
    """One recorded POST; ``source`` names the archive member it came from, for error messages."""

    endpoint: str
    ts: int
    method: str = "POST"
    location_params: dict[str, Any] | None = None
    params: dict[str, Any] | None = None
    body: Any = None
    test_type: str = "unknown"
    success: bool = False
    error: str | None = None

    @property
    def template(self) -> str:
        """The endpoint with double slashes collapsed (older SCT clients logged ``//stress_cmd``)."""
        return re.sub(r"/{2,}", "/", self.endpoint)

    @property
    def run_key(self) -> tuple[str, str] | None:
        """(run type, run id) the record belongs to, when it names a run."""
        location = self.location_params or {}
        run_type = str(location.get("type") or self.test_type)
        run_id = location.get("id")
        if run_id is None and self.template == SUBMIT and isinstance(self.body, dict):
            run_id = self.body.get("run_id")
        return (run_type, str(run_id)) if run_id else None

    @property
    def phase(self) -> Phase:
        """Which part of the replay order this record belongs to."""
        template = self.template
        if template == SUBMIT:
            return Phase.SUBMIT
        if template == HEARTBEAT:
            return Phase.HEARTBEAT
        if template == FINALIZE:
            return Phase.FINALIZE
        if template == SET_STATUS and isinstance(self.body, dict) and (
                str(self.body.get("new_status", "")).lower() in TERMINAL_STATUSES):
            return Phase.TERMINAL_STATUS
        return Phase.DATA

    def path(self) -> str:
        """The concrete endpoint (``$type``/``$id``/``$name`` filled in); ValueError if one is unknown."""
        location = self.location_params or {}

        def fill(match: re.Match[str]) -> str:
            if match.group(1) not in location:
                raise ValueError(f"no value for ${match.group(1)} in location_params")
            return str(location[match.group(1)])

        return _PLACEHOLDER.sub(fill, self.template)


class ParsedLog(msgspec.Struct):
    """The records of one replay-log file and how many of its lines could not be read."""

    records: list[ReplayRecord]
    bad_lines: int


def parse_log(data: bytes) -> ParsedLog:
    """Every readable record of a JSONL replay log; a torn or foreign line is counted, not fatal.

    A log written by a process that was killed mid-write ends in half a line; losing the whole
    file for it would lose the calls the replay exists to recover.
    """
    records: list[ReplayRecord] = []
    bad = 0
    for line in data.splitlines():
        if not line.strip():
            continue
        try:
            record = msgspec.convert(json.loads(line), ReplayRecord)
        except (ValueError, msgspec.ValidationError):
            bad += 1
            continue
        if record.method.upper() != "POST":
            bad += 1
            continue
        records.append(record)
    return ParsedLog(records, bad)


class ReplayPlan(msgspec.Struct):
    """The records to send, in order, and those left out because no replay is needed."""

    to_send: list[ReplayRecord]
    skipped: int


def plan_replay(records: list[ReplayRecord]) -> ReplayPlan:
    """Order the records for sending and drop the ones that must not or need not be sent.

    Records that succeeded when first sent, and calls with external side effects, are skipped.
    Heartbeats collapse to the last one per run. ``finalize`` gets ``end_time`` from its own ``ts``
    (seconds), so the run ends when the job ended, not when the replay ran.
    """
    ordered = sorted(records, key=lambda record: record.ts)
    pending: list[ReplayRecord] = []
    skipped = 0
    last_heartbeat: dict[tuple[str, str] | None, ReplayRecord] = {}
    for record in ordered:
        if record.success or record.template in EXTERNAL_SIDE_EFFECTS:
            skipped += 1
        elif record.phase is Phase.HEARTBEAT:
            if record.run_key in last_heartbeat:
                skipped += 1
            last_heartbeat[record.run_key] = record
        else:
            pending.append(record)
    pending.extend(last_heartbeat.values())
    plan = [_with_end_time(record) for record in sorted(pending, key=lambda r: (r.phase, r.ts))]
    return ReplayPlan(plan, skipped)


def _with_end_time(record: ReplayRecord) -> ReplayRecord:
    if record.phase is not Phase.FINALIZE:
        return record
    body = dict(record.body) if isinstance(record.body, dict) else {}
    body.setdefault("end_time", record.ts / 1000)
    return msgspec.structs.replace(record, body=body)


def build_id_of(submit_body: Any) -> str | None:
    """The build id a ``submit`` body carries (``build_id``, or ``job_name`` for SCT and driver-matrix)."""
    if not isinstance(submit_body, dict):
        return None
    value = submit_body.get("build_id") or submit_body.get("job_name")
    return str(value) if value else None
