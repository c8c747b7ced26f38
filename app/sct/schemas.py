"""Bodies of ``ArgusSCTClient``'s own calls and of the configuration upload.

None is strict: the existing service read these bodies key by key (or through lenient models), so
extra keys sent by newer clients are ignored.
"""

from __future__ import annotations

from typing import Any

import msgspec

from domain.sct.entities import GeminiResults, InstanceInfo, Package, PerformanceResults, ResourceState


class RunnerSet(msgspec.Struct):
    """``set_sct_runner``."""

    public_ip: str | None = None
    private_ip: str | None = None
    region: str | None = None
    backend: str | None = None
    name: str | None = None
    schema_version: str | None = None


class PackagesSubmit(msgspec.Struct):
    """``submit_packages``."""

    packages: list[Package]
    schema_version: str | None = None


class StressCommandSubmit(msgspec.Struct):
    """``add_stress_command``: ``ts`` in epoch seconds."""

    cmd: str
    ts: float
    log_name: str | None = None
    loader_name: str | None = None
    schema_version: str | None = None


class ScreenshotsSubmit(msgspec.Struct):
    """``submit_screenshots``."""

    screenshot_links: list[str]
    schema_version: str | None = None


class ResourceBody(msgspec.Struct):
    """The resource of ``create_resource``; its details carry no times (the server stamps creation)."""

    name: str
    resource_type: str
    state: ResourceState = ResourceState.RUNNING
    instance_details: InstanceInfo = msgspec.field(default_factory=InstanceInfo)


class ResourceCreate(msgspec.Struct):
    """``create_resource``."""

    resource: ResourceBody
    schema_version: str | None = None


class ResourceTerminate(msgspec.Struct):
    """``terminate_resource``."""

    reason: str = ""
    schema_version: str | None = None


class ResourceShards(msgspec.Struct):
    """``update_shards_for_resource``."""

    shards: int
    schema_version: str | None = None


class ResourceChanges(msgspec.Struct):
    """``update_data`` of ``update_resource``: the state is checked by the domain, so its error names the values."""

    state: str | None = None
    instance_info: dict[str, Any] = msgspec.field(default_factory=dict)


class ResourceUpdate(msgspec.Struct):
    """``update_resource``."""

    update_data: ResourceChanges
    schema_version: str | None = None


class JunitSubmit(msgspec.Struct):
    """``sct_submit_junit_report``: ``content`` is base64 with newlines."""

    file_name: str
    content: str
    schema_version: str | None = None


class GeminiSubmit(msgspec.Struct):
    """``submit_gemini_results``."""

    gemini_data: GeminiResults
    schema_version: str | None = None


class PerformanceSubmit(msgspec.Struct):
    """``submit_performance_results``."""

    performance_results: PerformanceResults
    schema_version: str | None = None


class LegacyEventsSubmit(msgspec.Struct):
    """``submit_events``: accepted and dropped (events now arrive one by one)."""

    events: list[Any] = msgspec.field(default_factory=list)
    schema_version: str | None = None


class ConfigSubmit(msgspec.Struct):
    """``sct_submit_config``: ``content`` is base64 with newlines."""

    name: str
    content: str
    schema_version: str | None = None
