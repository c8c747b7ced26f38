"""Shapes of the run read routes, with the existing service's field names."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec

from app.wire import format_datetime
from domain.runs.entities import InvestigationStatus, Run, TestStatus
from domain.runs.plugins import PluginName

# The full run as ``run_document`` writes it: shared fields, the type's own fields and child data.
RunDocument = dict[str, Any]


class RunShort(msgspec.Struct, kw_only=True):
    """What a run card shows of a run: the short form of ``/test/<id>/runs``."""

    id: UUID
    test_id: UUID | None
    group_id: UUID | None
    release_id: UUID | None
    status: TestStatus
    start_time: str
    build_number: int | None
    build_job_url: str
    build_id: str
    assignee: UUID | None
    end_time: str
    investigation_status: InvestigationStatus
    heartbeat: int

    @classmethod
    def of(cls, run: Run) -> RunShort:
        """The short form, datetimes in the wire format."""
        return cls(id=run.id, test_id=run.test_id, group_id=run.group_id, release_id=run.release_id,
                   status=run.status, start_time=format_datetime(run.start_time), build_number=run.build_number,
                   build_job_url=run.build_job_url, build_id=run.build_id, assignee=run.assignee,
                   end_time=format_datetime(run.end_time), investigation_status=run.investigation_status,
                   heartbeat=run.heartbeat)


class RunTypeOut(msgspec.Struct):
    """The run type of a run id (``unknown-does-not-exist`` when there is no such run)."""

    run_type: str


class RunsById(msgspec.Struct):
    """Runs keyed by their id."""

    runs: dict[str, RunDocument]


class BuildLink(msgspec.Struct):
    """Where the run of a Jenkins build lives in the UI."""

    run_id: UUID
    plugin_name: PluginName
    url: str


class PluginChange(msgspec.Struct, forbid_unknown_fields=True):
    """Body of ``set_plugin``."""

    plugin_name: str
