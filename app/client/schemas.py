"""Bodies the ``argus-alm`` client sends, one struct per call and run type.

Strict structs (``forbid_unknown_fields``) mirror the existing service's strict dataclasses, which
reject unknown keys; the others ignore extra keys as the existing service's dict access did.
"""

from __future__ import annotations

from typing import Any

import msgspec

from domain.runs.entities import LogLink


class GenericSubmit(msgspec.Struct):
    """``submit_generic_run``."""

    run_id: str
    build_id: str
    build_url: str = ""
    started_by: str | None = None
    sub_type: str | None = None
    scylla_version: str | None = None
    schema_version: str | None = None


class SCTSubmit(msgspec.Struct, forbid_unknown_fields=True):
    """``submit_sct_run`` (its derived fields are filled by the SCT feature)."""

    run_id: str
    job_name: str
    job_url: str
    started_by: str | None = None
    commit_id: str | None = None
    origin_url: str | None = None
    branch_name: str | None = None
    sct_config: dict[str, Any] | None = None
    schema_version: str | None = None


class DriverMatrixSubmit(msgspec.Struct, forbid_unknown_fields=True):
    """``submit_driver_matrix_run`` (schema v2)."""

    run_id: str
    job_name: str
    job_url: str
    schema_version: str | None = None


class StatusChange(msgspec.Struct):
    """``set_status``."""

    new_status: str
    schema_version: str | None = None


class VersionChange(msgspec.Struct):
    """``update_product_version``."""

    product_version: str
    schema_version: str | None = None


class LogEntry(msgspec.Struct):
    """One log link as the client names its fields."""

    log_name: str
    log_link: str

    def to_domain(self) -> LogLink:
        """The domain's log link."""
        return LogLink(name=self.log_name, link=self.log_link)


class LogsSubmit(msgspec.Struct):
    """``submit_logs``."""

    logs: list[LogEntry]
    schema_version: str | None = None


class Finalize(msgspec.Struct):
    """``finalize_run``; every field optional, and extra keys tolerated as upstream does."""

    status: str | None = None
    scylla_version: str | None = None
    end_time: float | None = None
    schema_version: str | None = None


class Heartbeat(msgspec.Struct):
    """``heartbeat`` (the body only carries the schema version)."""

    schema_version: str | None = None
