"""Helpers of the documents tests: the platform with the local storage on a fixed clock.

Built on the test kit only. A high-value booking is a Full Mini Move ($2,490); uploads go
through the local storage's signed form exactly as a browser posts it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select
from webtest import TestApp

from totetaxi_core.plugin_api import BUSINESS_TZ
from totetaxi_core.testing import in_transaction, make_booking

PLUGINS = (
    "pricing payments_mock notifications mail_console logistics logistics_mock "
    "documents storage_local"
)
#: Monday 2026-11-23, 10:00 in New York; bookings are for Thursday.
NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=BUSINESS_TZ).astimezone(dt.UTC)
DAY = dt.date(2026, 11, 26)
PDF = b"%PDF-1.7\n" + b"x" * 2000 + b"\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 500
EXE = b"MZ\x90\x00" + b"\x00" * 500


def run(app: TestApp, work: Callable[[Any], Any]) -> Any:
    return in_transaction(app.app.registry, work)


def rows(app: TestApp, statement: Any) -> list[Any]:
    def read(ctx: Any) -> list[Any]:
        found = list(ctx.dbsession.scalars(statement))
        for row in found:
            ctx.dbsession.expunge(row)
        return found

    return in_transaction(app.app.registry, read)


def guest_booking(app: TestApp, **extra: Any) -> dict[str, Any]:
    return make_booking(app, DAY, **extra)


def pay(app: TestApp, booking: dict[str, Any]) -> None:
    token = f"?token={booking['tracking_token']}"
    payment = app.post_json(f"/api/v1/bookings/{booking['id']}/payments{token}", {}).json
    app.post_json(
        f"/api/v1/payments/mock/confirm{token}",
        {"payment_id": payment["payment_id"], "card_number": "4242 4242 4242 4242"},
    )


def high_value_booking(app: TestApp) -> dict[str, Any]:
    """A paid Full Mini Move ($2,490): confirmed, held for its COI."""
    booking = guest_booking(app, package="full")
    pay(app, booking)
    return booking


def start(
    app: TestApp,
    booking: dict[str, Any],
    data: bytes = PDF,
    filename: str = "certificate.pdf",
    content_type: str = "application/pdf",
    category: str = "coi",
    status: int = 201,
    **extra: Any,
) -> Any:
    body = {
        "category": category,
        "filename": filename,
        "content_type": content_type,
        "size": len(data),
        **extra,
    }
    path = f"/api/v1/bookings/{booking['id']}/documents/uploads?token={booking['tracking_token']}"
    return app.post_json(path, body, status=status).json


def post_form(
    app: TestApp, form: dict[str, Any], data: bytes, content_type: str, status: int = 204
) -> Any:
    """What the browser does with the presigned form: its fields, then the file."""
    fields = list(form["fields"].items())
    return app.post(
        form["url"],
        params=fields,
        upload_files=[("file", "upload.bin", data, content_type)],
        status=status,
    )


def complete(app: TestApp, booking: dict[str, Any], document_id: str, status: int = 200) -> Any:
    path = (
        f"/api/v1/bookings/{booking['id']}/documents/{document_id}/complete"
        f"?token={booking['tracking_token']}"
    )
    return app.post_json(path, None, status=status).json


def upload(
    app: TestApp,
    booking: dict[str, Any],
    data: bytes = PDF,
    filename: str = "certificate.pdf",
    content_type: str = "application/pdf",
    category: str = "coi",
) -> dict[str, Any]:
    """The whole upload: start, post the file, complete; the completed document."""
    started = start(
        app,
        booking,
        data,
        filename,
        content_type,
        category,
        sha256=hashlib.sha256(data).hexdigest(),
    )
    post_form(app, started["upload"], data, content_type)
    return complete(app, booking, started["document_id"])


def documents(app: TestApp) -> list[Any]:
    from totetaxi_documents.models import Document

    return rows(app, select(Document).order_by(Document.created_at))


def files_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.endswith(".meta"))


def as_uuid(value: str) -> uuid.UUID:
    return uuid.UUID(value)
