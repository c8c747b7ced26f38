"""The email report end to end: the real ``ArgusSCTClient.send_email`` against ``argus serve``, whose embedded
worker delivers the queued report to a real SMTP server (aiosmtpd in this process)."""

from __future__ import annotations

import base64
import uuid
from pathlib import Path

from argus.client.sct.client import ArgusSCTClient
from argus.client.sct.types import Package

from tests.e2e.conftest import StartServer, base_env, create_token, run_argus
from tests.smtp_inbox import smtp_inbox

BUILD_ID = "e2e-email/longevity/longevity-1h"


def test_send_email_delivers_the_report(argus_server: StartServer, tmp_path: Path) -> None:
    run_id = str(uuid.uuid4())
    log = b"2024-06-01 12:00:00 started\n" * 10
    with smtp_inbox() as inbox:
        env = base_env(tmp_path / "data", ARGUS_MAIL_SMTP_HOST="127.0.0.1", ARGUS_MAIL_SMTP_PORT=str(inbox.port),
                       ARGUS_MAIL_FROM_ADDRESS="argus@example.com")
        (tmp_path / "data").mkdir()
        assert run_argus("migrate", env=env).returncode == 0
        token = create_token(env)
        server = argus_server(env)
        with ArgusSCTClient(run_id, auth_token=token, base_url=server.url, log_dir=tmp_path / "replay") as client:
            client.submit_sct_run(job_name=BUILD_ID, job_url="https://jenkins.example/job/e2e-email/7/",
                                  started_by="jenkins-bot", commit_id="f00dcafe", origin_url=None, branch_name=None,
                                  sct_config={"cluster_backend": "aws", "region_name": "eu-west-1"})
            client.submit_packages([Package(name="scylla-server-target", version="2024.2.0", date="20240601",
                                            revision_id="abcdef1", build_id="b1")])
            client.submit_event({"run_id": run_id, "severity": "ERROR", "ts": 1717243200.0,
                                 "message": "<script>alert('x')</script> node down", "event_type": "DatabaseLogEvent"})
            client.send_email(recipients=["qa@example.com"],
                              sections=["header", "main", "packages",
                                        {"type": "events", "options": {"severity_filter": ["ERROR"]}}],
                              attachments=[{"filename": "sct.log", "data": base64.encodebytes(log).decode()}])

        [received] = inbox.wait_for(1)
    mime = received.message
    assert received.sender == "argus@example.com"
    assert received.recipients == ["qa@example.com"]
    assert mime["Subject"].startswith(f"[CREATED] {BUILD_ID}#7: ")
    body = mime.get_body(preferencelist=("html",))
    assert body is not None
    html = body.get_content()
    assert run_id in html and "scylla-server-target" in html and "2024.2.0" in html
    assert "&lt;script&gt;" in html and "<script>" not in html
    assert {part.get_filename(): part.get_payload(decode=True) for part in mime.iter_attachments()} == {"sct.log": log}
