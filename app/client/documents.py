"""Runs as the client API and the UI read them: the existing service's field names and formats."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.wire import jsonable
from domain.runs.entities import Run
from domain.runs.plugins import PluginName

# SCT and driver-matrix runs list logs as [name, link] pairs; the other types as a name -> link map.
_PAIR_LOGS = frozenset({PluginName.SCT, PluginName.DRIVER_MATRIX})


def run_document(run: Run, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The full run: shared fields, the type's own fields, and any child data passed in ``extra``."""
    logs: Any = ([[log.name, log.link] for log in run.logs] if run.plugin_name in _PAIR_LOGS
                 else {log.name: log.link for log in run.logs})
    document: dict[str, Any] = {
        "id": run.id, "build_id": run.build_id, "start_time": run.start_time, "release_id": run.release_id,
        "group_id": run.group_id, "test_id": run.test_id, "assignee": run.assignee, "status": run.status,
        "investigation_status": run.investigation_status, "heartbeat": run.heartbeat, "end_time": run.end_time,
        "build_job_url": run.build_job_url, "build_number": run.build_number,
        "product_version": run.product_version, "scylla_version": run.scylla_version,
        "started_by": run.started_by, "logs": logs,
    }
    document.update(run.details)
    document.update(extra or {})
    return jsonable(document)
