"""The console mailer: each message to the log and to an ``.eml`` file in a folder."""

from __future__ import annotations

import datetime as dt
import email.policy
import logging
import os
import re
import uuid
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from ...interfaces import MailerError, Message

log = logging.getLogger("totetaxi.mail_console")

_ID = re.compile(r"^console-[0-9a-f]{32}$")


def build(message: Message, message_id: str) -> EmailMessage:
    """``message`` as a MIME email (text, plus HTML as the alternative when there is one)."""
    mime = EmailMessage()
    mime["From"] = message.from_address
    mime["To"] = message.to
    mime["Subject"] = message.subject
    mime["Date"] = email.utils.format_datetime(dt.datetime.now(dt.UTC))
    mime["Message-ID"] = f"<{message_id}@mail-console.totetaxi>"
    mime["X-Totetaxi-Provider-Id"] = message_id
    if message.reply_to:
        mime["Reply-To"] = message.reply_to
    if message.reference:
        mime["X-Totetaxi-Notification"] = message.reference
    for name, value in message.headers.items():
        mime[name] = value
    mime.set_content(message.text)
    if message.html:
        mime.add_alternative(message.html, subtype="html")
    return mime


class ConsoleMailer:
    """Writes each message to ``folder`` as ``<provider id>.eml`` and logs it."""

    name = "console"

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)

    def send(self, message: Message) -> str:
        message_id = f"console-{uuid.uuid4().hex}"
        data = build(message, message_id).as_bytes(policy=email.policy.SMTP)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            partial = self.folder / f".{message_id}.part"
            partial.write_bytes(data)
            partial.replace(self.folder / f"{message_id}.eml")  # readers never see half a file
        except OSError as exc:
            raise MailerError(f"cannot write to {self.folder}: {exc}") from exc
        log.info("email %s to %s: %s\n%s", message_id, message.to, message.subject, message.text)
        return message_id

    def read(self, message_id: str) -> EmailMessage | None:
        """The message written under ``message_id``, or ``None``."""
        if not _ID.fullmatch(message_id):
            return None
        path = self.folder / f"{message_id}.eml"
        if not path.is_file():
            return None
        return BytesParser(policy=email.policy.default).parsebytes(path.read_bytes())

    def listing(self, limit: int = 100) -> list[dict[str, Any]]:
        """The latest messages, newest first: ``[{id, to, subject, date}]``."""
        if not self.folder.is_dir():
            return []
        paths = sorted(
            self.folder.glob("console-*.eml"), key=lambda p: p.stat().st_mtime, reverse=True
        )[:limit]
        out = []
        for path in paths:
            with path.open("rb") as handle:
                headers = BytesParser(policy=email.policy.default).parse(handle, headersonly=True)
            out.append(
                {
                    "id": path.stem,
                    "to": str(headers["To"]),
                    "subject": str(headers["Subject"]),
                    "date": str(headers["Date"]),
                }
            )
        return out


#: The service holding this app's :class:`ConsoleMailer`.
MAILER_SERVICE = "mail_console.mailer"
