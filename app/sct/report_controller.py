"""``ArgusSCTClient.send_email``: ``POST /api/v1/client/testrun/report/email``.

The report is validated and rendered here, inside the request, so a bad request is answered with
the error; delivery is a queued job. Like every client route, errors are the HTTP 200 envelope.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, post
from litestar.di import NamedDependency

from app.client.base import ClientApiController
from app.envelope import Ok, ok
from app.wire import decode_body
from domain.runs.service import parse_run_id
from domain.sct.report import AUTO_TITLE, EncodedAttachment, ReportService, SectionRequest

Reports = NamedDependency[ReportService]
AnyRequest = Request[Any, Any, Any]


class SectionSpec(msgspec.Struct, forbid_unknown_fields=True):
    """A section with options, ``{"type": ..., "options": {...}}``."""

    type: str
    options: dict[str, Any] = msgspec.field(default_factory=dict)


class AttachmentSpec(msgspec.Struct, forbid_unknown_fields=True):
    """A file to attach, ``data`` being base64 (newlines allowed, as ``base64.encodebytes`` writes it)."""

    filename: str
    data: str


class ReportSendRequest(msgspec.Struct, forbid_unknown_fields=True):
    """The body ``send_email`` posts; unknown keys are rejected as the existing service did."""

    schema_version: str
    run_id: str
    recipients: list[str]
    title: str = AUTO_TITLE
    sections: list[str | SectionSpec] = msgspec.field(default_factory=list)
    attachments: list[AttachmentSpec] = msgspec.field(default_factory=list)


class ReportController(ClientApiController):
    """Email reports of SCT runs."""

    path = "/api/v1/client/testrun/report"

    @post("/email", operation_id="clientSendReportEmail", status_code=200)
    async def send_email(self, request: AnyRequest, reports: Reports) -> Ok[bool]:
        """Render the run's report and queue it for the mail job; ``true`` once it is queued."""
        body = decode_body(await request.body(), ReportSendRequest)
        sections = [SectionRequest(s) if isinstance(s, str) else SectionRequest(s.type, s.options)
                    for s in body.sections]
        await reports.send(parse_run_id(body.run_id), title=body.title, recipients=body.recipients,
                           sections=sections,
                           attachments=[EncodedAttachment(a.filename, a.data) for a in body.attachments])
        return ok(True)
