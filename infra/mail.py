"""Outgoing mail: a small collaborator, so the scheduler sends through SMTP and tests through a fake."""

import smtplib
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol

# (file name, content, MIME type such as "application/pdf")
Attachment = tuple[str, bytes, str]


class Mailer(Protocol):
    """Anything that can send one message to a list of addresses."""

    def send(
        self, to: Sequence[str], subject: str, body: str, attachments: Sequence[Attachment] = ()
    ) -> None:
        """Send one message; raise when it could not be handed over."""


def parse_addresses(text: str | None) -> list[str]:
    """Return the addresses of a comma-separated setting, without blanks."""
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def build_message(
    sender: str, to: Sequence[str], subject: str, body: str, attachments: Sequence[Attachment] = ()
) -> EmailMessage:
    """Return a MIME message with a plain-text body and the attachments."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(to)
    message["Subject"] = subject
    message.set_content(body)
    for filename, content, mimetype in attachments:
        maintype, _, subtype = mimetype.partition("/")
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return message


@dataclass(frozen=True)
class SmtpMailer:
    """Send through a plain SMTP server (MAIL_SERVER, MAIL_PORT); no login and no TLS yet."""

    host: str
    port: int
    sender: str
    timeout: float = 30.0

    def send(
        self, to: Sequence[str], subject: str, body: str, attachments: Sequence[Attachment] = ()
    ) -> None:
        """Send one message to every address in `to`."""
        if not to:
            raise ValueError("a message needs at least one recipient")
        message = build_message(self.sender, to, subject, body, attachments)
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            smtp.send_message(message)
