"""The email report of an SCT run: validate the request, gather the run's data, render, queue for sending.

Everything that can be wrong with a request (unknown run, another run type, a bad recipient, bad
base64, malformed section options) is found here, inside the CI request, so the job only has to
deliver a finished message and a caller learns about its mistake from the answer, not from a log.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

import msgspec

from domain.errors import InvalidInput
from domain.results.entities import RunResultTable
from domain.results.service import ResultsService
from domain.runs.entities import Run
from domain.runs.errors import RunNotFound
from domain.runs.plugins import PluginName
from domain.runs.reading import RunReader
from domain.runs.service import RunService
from domain.sct.events import SCTEventService, Severity, parse_severity
from domain.sct.service import decode_base64

AUTO_TITLE = "#auto"
MAX_RECIPIENTS = 100
MAX_ATTACHMENTS = 10
# Attachments travel inside the queued job, so their total is bounded to keep the broker's payloads small.
MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024
MAX_HTML_BYTES = 2 * 1024 * 1024
MAX_TITLE_LENGTH = 500
# Each section may read storage (events read once per severity), so a request cannot ask for unbounded work.
MAX_SECTIONS = 50
EVENTS_PER_SEVERITY = 50
KNOWN_SECTIONS = frozenset({"header", "main", "packages", "logs", "cloud", "nemesis", "events", "screenshots",
                            "generic_results", "custom_table", "custom_html"})
DEFAULT_SECTIONS = ("header", "main", "packages", "logs", "cloud", "nemesis", "events", "screenshots",
                    "generic_results")
# A pragmatic address check: one @, no spaces or angle brackets (which could inject headers), a dotted domain.
_EMAIL = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+$")
_FILENAME_FORBIDDEN = re.compile(r"[\x00-\x1f/\\\"]")


class Attachment(msgspec.Struct, frozen=True):
    """A file sent with the report."""

    filename: str
    content: bytes


class EmailMessage(msgspec.Struct, frozen=True, kw_only=True):
    """A finished message: what a ``Mailer`` delivers, and what the send job carries."""

    to: list[str]
    subject: str
    html: str
    attachments: list[Attachment] = msgspec.field(default_factory=list)


class SectionRequest(msgspec.Struct, frozen=True):
    """One section the caller asked for; a shorthand string becomes a section without options."""

    type: str
    options: dict[str, Any] = msgspec.field(default_factory=dict)


class EncodedAttachment(msgspec.Struct, frozen=True):
    """An attachment as the client sends it, ``data`` being ``base64.encodebytes`` output."""

    filename: str
    data: str


class ReportSection(msgspec.Struct, frozen=True):
    """A section ready to render: its type names the template block, ``data`` what the block shows."""

    type: str
    data: dict[str, Any]


class ReportContext(msgspec.Struct, frozen=True, kw_only=True):
    """Everything the renderer needs; plain values only, so any template engine can show it."""

    title: str
    run_id: str
    sections: list[ReportSection]


class CustomTable(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Options of a ``custom_table`` section: a caller-made table shown as given (escaped)."""

    headers: list[str]
    rows: list[list[str | int | float | None]]
    table_name: str = ""


class ReportRenderer(Protocol):
    """Turns a report into HTML; an adapter, so the domain stays free of template engines."""

    def render(self, context: ReportContext) -> str:
        """The HTML body of the message; every value escaped except a ``custom_html`` fragment."""
        ...


class Mailer(Protocol):
    """Delivers a finished message (SMTP in production)."""

    async def send(self, message: EmailMessage) -> None:
        """Deliver or raise; a failure must be visible to the caller (the job records it)."""
        ...


class ReportOutbox(Protocol):
    """Where finished messages wait for the job that sends them; sending never happens in a request."""

    async def enqueue(self, message: EmailMessage) -> None:
        """Queue the message for delivery."""
        ...


def auto_title(run: Run) -> str:
    """``[STATUS] build_id#build_number: dd/mm/YYYY HH:MM:SS`` from the run's status and start time."""
    number = "" if run.build_number is None else run.build_number
    return f"[{run.status.value.upper()}] {run.build_id}#{number}: {run.start_time:%d/%m/%Y %H:%M:%S}"


def check_recipients(recipients: list[str]) -> list[str]:
    """Between 1 and ``MAX_RECIPIENTS`` plausible addresses, so the message cannot be turned into spam or headers."""
    if not 1 <= len(recipients) <= MAX_RECIPIENTS:
        raise InvalidInput(f"recipients must list 1 to {MAX_RECIPIENTS} addresses", str(len(recipients)))
    for address in recipients:
        if len(address) > 254 or not _EMAIL.match(address):
            raise InvalidInput(f"{address[:80]!r} is not a valid email address", address[:80])
    return list(dict.fromkeys(recipients))


def decode_attachments(attachments: list[EncodedAttachment]) -> list[Attachment]:
    """Decode the base64 files, refusing names that could break MIME headers and totals over the bound."""
    if len(attachments) > MAX_ATTACHMENTS:
        raise InvalidInput(f"at most {MAX_ATTACHMENTS} attachments", str(len(attachments)))
    decoded: list[Attachment] = []
    total = 0
    for attachment in attachments:
        name = attachment.filename
        if not name.strip() or len(name) > 255 or _FILENAME_FORBIDDEN.search(name):
            raise InvalidInput("attachment filename must be 1 to 255 characters without paths or control characters",
                               name[:80])
        if len(attachment.data) > 2 * MAX_ATTACHMENT_BYTES:
            raise InvalidInput(f"attachments are larger than {MAX_ATTACHMENT_BYTES} bytes in total", name)
        content = decode_base64(attachment.data, f"attachment {name}")
        total += len(content)
        if total > MAX_ATTACHMENT_BYTES:
            raise InvalidInput(f"attachments are larger than {MAX_ATTACHMENT_BYTES} bytes in total", name)
        decoded.append(Attachment(name, content))
    return decoded


def _fmt_time(value: datetime) -> str:
    """The day-first format the report title uses, so the whole message reads alike."""
    return f"{value:%d/%m/%Y %H:%M:%S}"


def _severities(options: dict[str, Any]) -> list[Severity]:
    """``severity_filter`` as severities; an empty or absent filter means every severity."""
    raw = options.get("severity_filter") or []
    if not isinstance(raw, list):
        raise InvalidInput("events options.severity_filter must be a list of severities", str(raw)[:80])
    return [parse_severity(value) for value in raw] or list(Severity)


def _custom_table(options: dict[str, Any]) -> dict[str, Any]:
    """The caller's table, checked for shape so a typo is an error in the answer, not a broken email."""
    try:
        table = msgspec.convert(options, CustomTable)
    except msgspec.ValidationError as error:
        raise InvalidInput(f"custom_table options: {error}") from error
    return {"title": table.table_name, "headers": table.headers, "rows": table.rows}


def _custom_html(options: dict[str, Any]) -> dict[str, Any]:
    """The caller's HTML fragment, passed through unescaped by the renderer (the caller wrote it for its report)."""
    html = options.get("html")
    if not isinstance(html, str):
        raise InvalidInput("custom_html options.html must be a string")
    if len(html.encode()) > MAX_HTML_BYTES:
        raise InvalidInput(f"custom_html options.html is larger than {MAX_HTML_BYTES} bytes")
    return {"html": html}


def _cell(table: RunResultTable, row: str, column: str) -> str:
    """A cell's value as text; a missing cell is blank rather than an error (tables gain columns over time)."""
    cell = table.table_data.get(row, {}).get(column)
    return "" if cell is None or cell.value is None else str(cell.value)


def _results(tables: list[RunResultTable]) -> list[dict[str, Any]]:
    """Results tables as header and rows of visible columns, the shape every report table has."""
    return [{"name": t.name, "description": t.description, "status": t.table_status.value,
             "headers": ["", *[c.name + (f" [{c.unit}]" if c.unit else "") for c in t.columns if c.visible]],
             "rows": [[row, *[_cell(t, row, c.name) for c in t.columns if c.visible]]
                      for row in t.rows]}
            for t in tables]


class ReportService:
    """Prepares an SCT run's email report and queues it for the mail job."""

    def __init__(self, runs: RunService, reader: RunReader, events: SCTEventService,
                 results: ResultsService, renderer: ReportRenderer, outbox: ReportOutbox) -> None:
        self._runs = runs
        self._reader = reader
        self._events = events
        self._results = results
        self._renderer = renderer
        self._outbox = outbox

    async def send(self, run_id: UUID, *, title: str, recipients: list[str], sections: list[SectionRequest],
                   attachments: list[EncodedAttachment]) -> EmailMessage:
        """Validate, render and queue the report; returns the message that was queued."""
        message = await self.prepare(run_id, title=title, recipients=recipients, sections=sections,
                                     attachments=attachments)
        await self._outbox.enqueue(message)
        return message

    async def prepare(self, run_id: UUID, *, title: str, recipients: list[str], sections: list[SectionRequest],
                      attachments: list[EncodedAttachment]) -> EmailMessage:
        """The finished message, or ``InvalidInput`` / ``RunNotFound`` before anything is queued."""
        to = check_recipients(recipients)
        if len(title) > MAX_TITLE_LENGTH or "\n" in title or "\r" in title:
            raise InvalidInput(f"title must be one line of at most {MAX_TITLE_LENGTH} characters", title[:80])
        files = decode_attachments(attachments)
        run = await self._runs.find_any(run_id)
        if run is None:
            raise RunNotFound("Run not found", str(run_id))
        if run.plugin_name != PluginName.SCT:
            raise InvalidInput(f"email reports are only available for {PluginName.SCT.value} runs, "
                               f"this run is {run.plugin_name.value}", str(run_id))
        subject = auto_title(run) if title in ("", AUTO_TITLE) else title
        context = ReportContext(title=subject, run_id=str(run.id),
                                sections=await self.build_sections(run, sections))
        html = self._renderer.render(context)
        if len(html.encode()) > MAX_HTML_BYTES:
            raise InvalidInput(f"the rendered report is larger than {MAX_HTML_BYTES} bytes; ask for fewer sections")
        return EmailMessage(to=to, subject=subject, html=html, attachments=files)

    async def build_sections(self, run: Run, requested: list[SectionRequest]) -> list[ReportSection]:
        """Each requested section with its data (the default set when none is asked for)."""
        if len(requested) > MAX_SECTIONS:
            raise InvalidInput(f"at most {MAX_SECTIONS} sections", str(len(requested)))
        wanted = requested or [SectionRequest(name) for name in DEFAULT_SECTIONS]
        read = await self._reader.read(PluginName.SCT, run.id)
        fields = read[1] if read else {}
        return [ReportSection(section.type if section.type in KNOWN_SECTIONS else "unsupported",
                              await self._section_data(run, fields, section)) for section in wanted]

    async def _section_data(self, run: Run, fields: dict[str, Any], section: SectionRequest) -> dict[str, Any]:
        details = run.details
        match section.type:
            case "header":
                return {"status": run.status.value, "build_id": run.build_id, "build_number": run.build_number,
                        "build_job_url": run.build_job_url, "scylla_version": run.scylla_version or ""}
            case "main":
                counts = fields.get("event_counts", {})
                return {"headers": ["Field", "Value"],
                        "rows": [["Run id", str(run.id)], ["Started by", run.started_by or ""],
                                 ["Start time", _fmt_time(run.start_time)],
                                 ["End time", _fmt_time(run.end_time) if run.end_time > run.start_time else ""],
                                 ["Test method", details.get("test_method") or ""],
                                 ["Regions", ", ".join(details.get("region_name") or [])],
                                 ["SCT runner", str(details.get("sct_runner_host") or "")]],
                        "event_headers": list(counts), "event_counts": list(counts.values())}
            case "packages":
                return {"headers": ["Name", "Version", "Date", "Revision", "Build id"],
                        "rows": [[p.get("name"), p.get("version"), p.get("date"), p.get("revision_id"),
                                  p.get("build_id")] for p in details.get("packages", [])]}
            case "logs":
                return {"logs": [{"name": log.name, "link": log.link} for log in run.logs]}
            case "cloud":
                return {"headers": ["Name", "State", "Type", "Instance type", "Region", "Public IP"],
                        "rows": [[r.name, r.state.value, r.resource_type, r.instance_info.instance_type,
                                  r.instance_info.region, r.instance_info.public_ip]
                                 for r in fields.get("allocated_resources", [])]}
            case "nemesis":
                return {"headers": ["Name", "Status", "Target node", "Duration (s)"],
                        "rows": [[n.name, n.status.value, n.target_node.name, n.duration]
                                 for n in fields.get("nemesis_data", [])]}
            case "events":
                events = await self._events.latest(run.id, _severities(section.options), limit=EVENTS_PER_SEVERITY)
                return {"headers": ["Severity", "Time", "Type", "Node", "Message"],
                        "rows": [[e.severity.value, _fmt_time(e.ts), e.event_type, e.node, e.message]
                                 for e in events]}
            case "screenshots":
                return {"screenshots": list(details.get("screenshots", []))}
            case "generic_results":
                tables = await self._results.tables_for_run(run.test_id, run.id) if run.test_id else []
                return {"tables": _results(tables)}
            case "custom_table":
                return _custom_table(section.options)
            case "custom_html":
                return _custom_html(section.options)
            case _:
                return {"requested": section.type}
