"""Bodies the ``argus-alm`` client sends, one struct per call and run type.

Strict structs (``forbid_unknown_fields``) mirror the existing service's strict dataclasses, which
reject unknown keys; the others ignore extra keys as the existing service's dict access did.
"""

from __future__ import annotations

from typing import Any

import msgspec

from domain.results.entities import Cell, CellStatus, ColumnMeta, ResultSubmission, ResultType, ValidationRule
from domain.runs.costs import CostItem
from domain.runs.entities import LogLink
from domain.runs.sirenada import SirenadaCase


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
    """``submit_sct_run``; the run fields derived from ``sct_config`` come from ``domain.sct.config_fields``."""

    run_id: str
    job_name: str
    job_url: str
    started_by: str | None = None
    commit_id: str | None = None
    origin_url: str | None = None
    branch_name: str | None = None
    sct_config: dict[str, Any] | None = None
    schema_version: str | None = None
    # Sent by old SCT versions; accepted so they keep working, not stored.
    runner_public_ip: str | None = None
    runner_private_ip: str | None = None


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


class SirenadaSubmit(msgspec.Struct):
    """``submit_sirenada_run``: the run and all its cases in one call."""

    run_id: str
    build_id: str
    build_job_url: str = ""
    region: str | None = None
    results: list[SirenadaCase] = msgspec.field(default_factory=list)
    schema_version: str | None = None


class PytestReport(msgspec.Struct):
    """One report of ``pytest-argus-reporter`` (it sends no schema version)."""

    name: str
    test_type: str
    run_id: str
    status: str
    timestamp: float
    session_timestamp: float
    # The reporter sends pytest's keyword mapping ({"slow": 1}); older code declared a list.
    markers: dict[str, Any] | list[str]
    duration: float = 0.0
    message: str | None = None
    user_fields: dict[str, str] = msgspec.field(default_factory=dict)


class DriverResult(msgspec.Struct, forbid_unknown_fields=True):
    """``submit_driver_result``: ``raw_xml`` is base64 of the JUnit XML, newlines included."""

    run_id: str
    driver_name: str
    driver_type: str
    raw_xml: str
    schema_version: str | None = None


class DriverFailure(msgspec.Struct, forbid_unknown_fields=True):
    """``submit_driver_failure``."""

    run_id: str
    driver_name: str
    driver_type: str
    failure_reason: str
    schema_version: str | None = None


class DriverEnvironment(msgspec.Struct, forbid_unknown_fields=True):
    """``submit_env``: the text of ``Build-00.txt``."""

    run_id: str
    raw_env: str
    schema_version: str | None = None


class ResultColumn(msgspec.Struct):
    """``columns_meta`` entry of a results table."""

    name: str
    type: ResultType
    unit: str = ""
    higher_is_better: bool | None = None
    visible: bool = True


class ResultRule(msgspec.Struct):
    """A column's validation rule."""

    best_pct: float | None = None
    best_abs: float | None = None
    fixed_limit: float | None = None


class ResultMeta(msgspec.Struct):
    """``meta`` of a results table."""

    name: str
    columns_meta: list[ResultColumn]
    description: str = ""
    rows_meta: list[str] = msgspec.field(default_factory=list)
    validation_rules: dict[str, ResultRule] = msgspec.field(default_factory=dict)
    sut_package_name: str = ""


class ResultCell(msgspec.Struct, forbid_unknown_fields=True):
    """One cell; strict like the existing service's ``Cell`` dataclass."""

    column: str
    row: str
    status: CellStatus
    value: float | None = None
    value_text: str | None = None


class ResultsSubmit(msgspec.Struct):
    """``submit_results``: one table per call."""

    meta: ResultMeta
    results: list[ResultCell]
    sut_timestamp: float = 0
    run_id: str | None = None
    schema_version: str | None = None

    def to_domain(self) -> ResultSubmission:
        """The domain's submission."""
        meta = self.meta
        return ResultSubmission(
            name=meta.name,
            description=meta.description,
            rows_meta=meta.rows_meta,
            sut_package_name=meta.sut_package_name,
            sut_timestamp=self.sut_timestamp,
            columns_meta=[
                ColumnMeta(
                    name=c.name, unit=c.unit, type=c.type, higher_is_better=c.higher_is_better, visible=c.visible
                )
                for c in meta.columns_meta
            ],
            validation_rules={
                name: ValidationRule(best_pct=r.best_pct, best_abs=r.best_abs, fixed_limit=r.fixed_limit)
                for name, r in meta.validation_rules.items()
            },
            cells=[
                Cell(column=c.column, row=c.row, value=c.value, value_text=c.value_text, status=c.status)
                for c in self.results
            ],
        )


class EstimatedCost(msgspec.Struct):
    """``set_estimated_cost`` (0.16.5+)."""

    value: float
    schema_version: str | None = None


class CostItems(msgspec.Struct):
    """``submit_cost_items`` (0.16.5+)."""

    items: list[CostItem]
    schema_version: str | None = None
