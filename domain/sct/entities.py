"""What SCT runs keep beside the run row: cloud resources, stress commands, JUnit reports, configurations."""

from __future__ import annotations

import enum
from datetime import datetime
from uuid import UUID

import msgspec


class ResourceState(enum.StrEnum):
    """Resource states exactly as ``argus-alm`` sends them."""

    RUNNING = "running"
    STOPPED = "stopped"
    TERMINATED = "terminated"


class InstanceInfo(msgspec.Struct, kw_only=True):
    """Where a machine runs and when it lived; times are epoch seconds, 0 meaning "not yet"."""

    provider: str | None = None
    instance_type: str | None = None
    region: str | None = None
    public_ip: str | None = None
    private_ip: str | None = None
    dc_name: str | None = None
    rack_name: str | None = None
    creation_time: int = 0
    termination_time: int = 0
    termination_reason: str = ""
    shards_amount: int = 0


class Resource(msgspec.Struct, kw_only=True):
    """A machine a run allocated, named uniquely within the run."""

    run_id: UUID
    name: str
    state: ResourceState
    resource_type: str
    instance_info: InstanceInfo


class StressCommand(msgspec.Struct, kw_only=True):
    """A load command a loader ran; the time identifies it within the run."""

    run_id: UUID
    ts: datetime
    cmd: str
    log_name: str | None = None
    node_name: str | None = None


class JunitReport(msgspec.Struct, kw_only=True):
    """A JUnit XML report, kept as text for the run page; the file name identifies it within the run."""

    run_id: UUID
    file_name: str
    report: str


class RunConfiguration(msgspec.Struct, kw_only=True):
    """A configuration file a run used, as uploaded."""

    run_id: UUID
    name: str
    content: str


class Package(msgspec.Struct, kw_only=True):
    """A package version the run tested; all five fields together identify it."""

    name: str
    version: str | None = None
    date: str | None = None
    revision_id: str | None = None
    build_id: str | None = None


class GeminiResults(msgspec.Struct, kw_only=True):
    """What a Gemini (differential testing) run reports about its oracle and its outcome."""

    oracle_nodes_count: int | None = None
    oracle_node_ami_id: str | None = None
    oracle_node_instance_type: str | None = None
    oracle_node_scylla_version: str | None = None
    gemini_command: str | None = None
    gemini_version: str | None = None
    gemini_status: str | None = None
    gemini_seed: str | None = None
    gemini_write_ops: int | None = None
    gemini_write_errors: int | None = None
    gemini_read_ops: int | None = None
    gemini_read_errors: int | None = None


class PerformanceResults(msgspec.Struct, kw_only=True):
    """Legacy performance summary of a run (newer jobs send results tables instead)."""

    test_name: str
    stress_cmd: str | None = None
    perf_op_rate_average: float | None = None
    perf_op_rate_total: float | None = None
    perf_avg_latency_99th: float | None = None
    perf_avg_latency_mean: float | None = None
    # The client types it as a string; it is stored as a number.
    perf_total_errors: float | str | None = None
    # The key is required (it may be null), as the existing service required it.
    histograms: list[dict[str, dict[str, float | None]]] | None
