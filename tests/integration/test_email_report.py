"""The email report end to end below HTTP: Jinja rendering, and the send job delivering to a real SMTP server."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import msgspec
import pytest

from domain.runs.entities import TestStatus
from domain.sct.report import Attachment, EmailMessage, ReportService, SectionRequest
from infrastructure.mail.report_renderer import JinjaReportRenderer
from infrastructure.mail.smtp_mailer import MailNotConfigured, SMTPMailer
from infrastructure.queue.email_job import send_report_email
from infrastructure.settings import MailSettings
from tests.smtp_inbox import Inbox, smtp_inbox
from tests.unit.test_email_report import RecordingOutbox, StubEvents, StubReader, StubResults, StubRuns, sct_run


@pytest.fixture
def smtp() -> Iterator[Inbox]:
    with smtp_inbox() as inbox:
        yield inbox


async def test_rendered_report_shows_the_run_and_escapes_event_messages() -> None:
    run = sct_run(status=TestStatus.PASSED, scylla_version="2024.2.0")
    reports = ReportService(StubRuns(run), StubReader(), StubEvents("<script>alert(1)</script>"),  # type: ignore[arg-type]
                            StubResults(), JinjaReportRenderer(), RecordingOutbox())
    message = await reports.send(run.id, title="#auto", recipients=["qa@example.com"], attachments=[], sections=[
        *[SectionRequest(name) for name in ("header", "main", "packages", "logs", "screenshots", "events")],
        SectionRequest("custom_table", {"headers": ["<i>h</i>"], "rows": [["<b>v</b>"]]}),
        SectionRequest("custom_html", {"html": "<p class='mine'>as given</p>"}),
        SectionRequest("sparkles")])
    html = message.html
    assert "[PASSED] scylla-master/longevity/100gb#42: 01/06/2024 13:04:05" in html
    assert str(run.id) in html
    assert "scylla-server" in html and "2024.2.0" in html
    assert 'href="https://logs.example/db.tar.zst"' in html and "db-cluster" in html
    assert "https://img.example/1.png" in html
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;i&gt;h&lt;/i&gt;" in html and "&lt;b&gt;v&lt;/b&gt;" in html
    assert "<p class='mine'>as given</p>" in html
    assert 'Section "sparkles" is not supported' in html


async def test_the_job_delivers_to_a_real_smtp_server(smtp: Inbox) -> None:
    mailer = SMTPMailer(MailSettings(smtp_host="127.0.0.1", smtp_port=smtp.port, from_address="argus@example.com"))
    log = b"line one\nline two\n"
    message = EmailMessage(to=["qa@example.com", "dev@example.com"], subject="[PASSED] job#1: 01/06/2024 13:04:05",
                           html="<html><body><h2>Report</h2></body></html>",
                           attachments=[Attachment("sct.log", log), Attachment("blob.bin", bytes(range(256)))])
    ctx: Any = {"services": SimpleNamespace(mailer=mailer)}

    assert await send_report_email(ctx, message=msgspec.to_builtins(message)) == 2

    [received] = smtp.received
    mime = received.message
    assert received.sender == "argus@example.com"
    assert received.recipients == ["qa@example.com", "dev@example.com"]
    assert mime["Subject"] == message.subject
    assert mime["To"] == "qa@example.com, dev@example.com"
    html = mime.get_body(preferencelist=("html",))
    assert html is not None and "<h2>Report</h2>" in html.get_content()
    files = {part.get_filename(): part.get_payload(decode=True) for part in mime.iter_attachments()}
    assert files == {"sct.log": log, "blob.bin": bytes(range(256))}


async def test_without_an_smtp_host_the_job_fails_loudly() -> None:
    ctx: Any = {"services": SimpleNamespace(mailer=SMTPMailer(MailSettings()))}
    message = EmailMessage(to=["qa@example.com"], subject="s", html="<p>x</p>")
    with pytest.raises(MailNotConfigured, match="ARGUS_MAIL_SMTP_HOST"):
        await send_report_email(ctx, message=msgspec.to_builtins(message))

