"""The SCT email report use case: titles, validation and section building, against stubs."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest

from domain.errors import InvalidInput
from domain.runs.entities import LogLink, Run, TestStatus
from domain.runs.errors import RunNotFound
from domain.runs.plugins import PluginName
from domain.sct.events import SCTEvent, Severity
from domain.sct.report import (
    DEFAULT_SECTIONS,
    MAX_ATTACHMENT_BYTES,
    MAX_RECIPIENTS,
    MAX_SECTIONS,
    EmailMessage,
    EncodedAttachment,
    ReportContext,
    ReportService,
    SectionRequest,
    auto_title,
    check_recipients,
    decode_attachments,
)

START = datetime(2024, 6, 1, 13, 4, 5, tzinfo=UTC)


def sct_run(**changes: Any) -> Run:
    fields: dict[str, Any] = {
        "id": uuid.uuid4(), "build_id": "scylla-master/longevity/100gb", "start_time": START,
        "plugin_name": PluginName.SCT, "status": TestStatus.FAILED, "build_number": 42,
        "logs": [LogLink("db-cluster", "https://logs.example/db.tar.zst")],
        "details": {"packages": [{"name": "scylla-server", "version": "2024.2.0"}],
                    "screenshots": ["https://img.example/1.png"]}}
    return Run(**{**fields, **changes})


class StubRuns:
    def __init__(self, *runs: Run) -> None:
        self.runs = {run.id: run for run in runs}

    async def find_any(self, run_id: UUID) -> Run | None:
        return self.runs.get(run_id)


class StubReader:
    async def read(self, run_type: PluginName, run_id: UUID) -> tuple[Run, dict[str, Any]] | None:
        return None


class StubEvents:
    def __init__(self, message: str = "boom") -> None:
        self.message = message
        self.asked: list[list[Severity] | None] = []

    async def latest(self, run_id: UUID, severities: list[Severity] | None = None, *, limit: int) -> list[SCTEvent]:
        self.asked.append(severities)
        return [SCTEvent(run_id=run_id, severity=Severity.ERROR, ts=START, event_type="DatabaseLogEvent",
                         message=self.message)]


class StubResults:
    async def tables_for_run(self, test_id: UUID, run_id: UUID) -> list[Any]:
        return []


class RecordingRenderer:
    def __init__(self) -> None:
        self.contexts: list[ReportContext] = []

    def render(self, context: ReportContext) -> str:
        self.contexts.append(context)
        return "<html></html>"


class RecordingOutbox:
    def __init__(self) -> None:
        self.queued: list[EmailMessage] = []

    async def enqueue(self, message: EmailMessage) -> None:
        self.queued.append(message)


def service(*runs: Run) -> tuple[ReportService, RecordingRenderer, RecordingOutbox, StubEvents]:
    renderer, outbox, events = RecordingRenderer(), RecordingOutbox(), StubEvents()
    return (ReportService(StubRuns(*runs), StubReader(), events, StubResults(),  # type: ignore[arg-type]
                          renderer, outbox), renderer, outbox, events)


def b64(data: bytes) -> str:
    return base64.encodebytes(data).decode()


def test_auto_title_has_status_build_and_start_time() -> None:
    assert auto_title(sct_run()) == "[FAILED] scylla-master/longevity/100gb#42: 01/06/2024 13:04:05"


@pytest.mark.parametrize("address", ["no-at-sign", "a@b", "two@@example.com", "a b@example.com",
                                     "x@example.com\nBcc: y@example.com", "<a@example.com>", ""])
def test_bad_recipients_are_refused(address: str) -> None:
    with pytest.raises(InvalidInput):
        check_recipients(["ok@example.com", address])


def test_recipients_are_bounded_and_deduplicated() -> None:
    with pytest.raises(InvalidInput):
        check_recipients([])
    with pytest.raises(InvalidInput):
        check_recipients([f"u{i}@example.com" for i in range(MAX_RECIPIENTS + 1)])
    assert check_recipients(["a@example.com", "a@example.com"]) == ["a@example.com"]


def test_attachments_accept_encodebytes_newlines() -> None:
    data = bytes(range(256)) * 4
    assert decode_attachments([EncodedAttachment("dump.bin", b64(data))])[0].content == data


@pytest.mark.parametrize(("name", "data"), [("a.txt", "not base64 !"), ("../etc/passwd", "YQ=="),
                                            ("", "YQ=="), ("a\r\nb.txt", "YQ==")])
def test_bad_attachments_are_refused(name: str, data: str) -> None:
    with pytest.raises(InvalidInput):
        decode_attachments([EncodedAttachment(name, data)])


def test_attachments_total_is_bounded() -> None:
    half = b64(b"x" * (MAX_ATTACHMENT_BYTES // 2 + 1))
    with pytest.raises(InvalidInput, match="in total"):
        decode_attachments([EncodedAttachment("a", half), EncodedAttachment("b", half)])


async def test_empty_sections_give_the_default_set_and_auto_title() -> None:
    run = sct_run()
    reports, renderer, outbox, _ = service(run)
    message = await reports.send(run.id, title="#auto", recipients=["qa@example.com"], sections=[], attachments=[])
    assert [s.type for s in renderer.contexts[0].sections] == list(DEFAULT_SECTIONS)
    assert message.subject == auto_title(run)
    assert outbox.queued == [message]
    by_type = {s.type: s.data for s in renderer.contexts[0].sections}
    assert by_type["packages"]["rows"] == [["scylla-server", "2024.2.0", None, None, None]]
    assert by_type["logs"]["logs"] == [{"name": "db-cluster", "link": "https://logs.example/db.tar.zst"}]
    assert by_type["screenshots"]["screenshots"] == ["https://img.example/1.png"]
    assert by_type["events"]["rows"][0][-1] == "boom"


async def test_sections_with_options_and_unknown_types() -> None:
    run = sct_run()
    reports, renderer, _, events = service(run)
    await reports.send(run.id, title="Custom", recipients=["qa@example.com"], attachments=[], sections=[
        SectionRequest("events", {"severity_filter": ["error", "CRITICAL"]}),
        SectionRequest("custom_table", {"table_name": "T", "headers": ["a", "b"], "rows": [[1, "x"]]}),
        SectionRequest("custom_html", {"html": "<b>hi</b>"}),
        SectionRequest("sparkles")])
    assert events.asked == [[Severity.ERROR, Severity.CRITICAL]]
    sections = renderer.contexts[0].sections
    assert [s.type for s in sections] == ["events", "custom_table", "custom_html", "unsupported"]
    assert sections[1].data == {"title": "T", "headers": ["a", "b"], "rows": [[1, "x"]]}
    assert sections[3].data == {"requested": "sparkles"}
    assert renderer.contexts[0].title == "Custom"


@pytest.mark.parametrize("section", [SectionRequest("events", {"severity_filter": ["LOUD"]}),
                                     SectionRequest("events", {"severity_filter": "ERROR"}),
                                     SectionRequest("custom_table", {"headers": "a"}),
                                     SectionRequest("custom_html", {"html": 5})])
async def test_bad_section_options_are_refused_before_queueing(section: SectionRequest) -> None:
    run = sct_run()
    reports, _, outbox, _ = service(run)
    with pytest.raises(InvalidInput):
        await reports.send(run.id, title="#auto", recipients=["qa@example.com"], sections=[section], attachments=[])
    assert outbox.queued == []


async def test_only_sct_runs_have_reports() -> None:
    run = sct_run(plugin_name=PluginName.GENERIC)
    reports, _, outbox, _ = service(run)
    with pytest.raises(InvalidInput, match="only available for scylla-cluster-tests"):
        await reports.send(run.id, title="#auto", recipients=["qa@example.com"], sections=[], attachments=[])
    with pytest.raises(RunNotFound):
        await reports.send(uuid.uuid4(), title="#auto", recipients=["qa@example.com"], sections=[], attachments=[])
    assert outbox.queued == []


async def test_section_count_is_bounded() -> None:
    run = sct_run()
    reports, _, outbox, _ = service(run)
    with pytest.raises(InvalidInput, match="at most"):
        await reports.send(run.id, title="#auto", recipients=["qa@example.com"], attachments=[],
                           sections=[SectionRequest("events")] * (MAX_SECTIONS + 1))
    assert outbox.queued == []


async def test_multi_line_titles_are_refused() -> None:
    run = sct_run()
    reports, _, _, _ = service(run)
    with pytest.raises(InvalidInput, match="one line"):
        await reports.send(run.id, title="a\nBcc: x@example.com", recipients=["qa@example.com"], sections=[],
                           attachments=[])
