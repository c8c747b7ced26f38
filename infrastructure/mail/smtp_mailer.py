"""The SMTP ``Mailer``: stdlib ``smtplib`` in a worker thread, so a slow mail server never blocks the event loop."""

from __future__ import annotations

import asyncio
import mimetypes
import smtplib
from email.message import EmailMessage as MIMEMessage

from domain.sct.report import EmailMessage
from infrastructure.settings import MailSettings


class MailNotConfigured(RuntimeError):
    """No SMTP host is set: the job fails with this, so an undelivered report is visible, not silently dropped."""


def to_mime(message: EmailMessage, sender: str) -> MIMEMessage:
    """The MIME message: a plain-text hint, the HTML alternative, then each attachment."""
    mime = MIMEMessage()
    mime["From"] = sender
    mime["To"] = ", ".join(message.to)
    mime["Subject"] = message.subject
    mime.set_content("This report is HTML; open it in a client that shows HTML mail.")
    mime.add_alternative(message.html, subtype="html")
    for attachment in message.attachments:
        kind = mimetypes.guess_type(attachment.filename)[0] or "application/octet-stream"
        maintype, subtype = kind.split("/", 1)
        mime.add_attachment(attachment.content, maintype=maintype, subtype=subtype, filename=attachment.filename)
    return mime


class SMTPMailer:
    """Sends through the configured SMTP server, with STARTTLS and login when the settings ask for them."""

    def __init__(self, settings: MailSettings) -> None:
        self._settings = settings

    async def send(self, message: EmailMessage) -> None:
        """Deliver the message; raises ``MailNotConfigured`` without a host and SMTP errors as they come."""
        if not self._settings.smtp_host:
            raise MailNotConfigured("mail.smtp_host (env ARGUS_MAIL_SMTP_HOST) is not set; the report was not sent")
        await asyncio.to_thread(self._send, to_mime(message, self._settings.from_address))

    def _send(self, mime: MIMEMessage) -> None:
        settings = self._settings
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.timeout_seconds) as smtp:
            if settings.starttls:
                smtp.starttls()
            if settings.username:
                smtp.login(settings.username, settings.password)
            smtp.send_message(mime)
