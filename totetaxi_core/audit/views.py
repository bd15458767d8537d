"""Reading the audit log: its filters, its records as staff see them, and timelines.

Shared by the staff API (:mod:`.api`) and the console (``/console/audit`` and the booking and
customer pages), so both filter and show the same way.

Filters (query parameters): ``actor`` (a staff id or an email), ``action`` (exact, or a prefix
when it ends with ``.``: ``payments.``), ``target_type``, ``target_id``, ``from`` and ``to``
(``YYYY-MM-DD``, New York days, both included).
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Select, select

from ..business_time import local_midnight
from ..errors import InvalidDraft
from ..identity.models import Customer, StaffUser
from .models import AuditRecord

log = logging.getLogger("totetaxi.audit")

FILTERS = ("actor", "action", "target_type", "target_id", "from", "to")
#: What a timeline shows at most of each source (the newest).
TIMELINE_LIMIT = 200
TIMELINE_KEYS = ("at", "kind", "title", "detail", "source")


def _text(params: Mapping[str, Any], name: str, limit: int) -> str:
    value = str(params.get(name, "") or "").strip()
    if len(value) > limit or any(ord(c) < 32 for c in value):
        raise InvalidDraft(
            name, f"{name} must be at most {limit} printable characters.", "querystring"
        )
    return value


def _day(params: Mapping[str, Any], name: str) -> dt.date | None:
    raw = str(params.get(name, "") or "").strip()
    if not raw:
        return None
    try:
        if len(raw) != 10:
            raise ValueError(raw)
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise InvalidDraft(
            name, f"{name} must be a date written YYYY-MM-DD.", "querystring"
        ) from None


def filters_of(params: Mapping[str, Any]) -> dict[str, Any]:
    """The filters in ``params`` (a query string), checked; ``InvalidDraft`` names the bad one."""
    found = {
        "actor": _text(params, "actor", 254),
        "action": _text(params, "action", 100),
        "target_type": _text(params, "target_type", 60),
        "target_id": _text(params, "target_id", 64),
        "from": _day(params, "from"),
        "to": _day(params, "to"),
    }
    if found["from"] and found["to"] and found["from"] > found["to"]:
        raise InvalidDraft("to", "to must be on or after from.", "querystring")
    return found


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def statement(filters: Mapping[str, Any]) -> Select[Any]:
    """The records matching ``filters`` (as :func:`filters_of` returns them)."""
    query = select(AuditRecord)
    actor = filters.get("actor")
    if actor:
        try:
            query = query.where(AuditRecord.actor_id == uuid.UUID(actor))
        except ValueError:
            query = query.where(AuditRecord.actor_email == actor.lower())
    action = filters.get("action")
    if action:
        if action.endswith("."):
            query = query.where(AuditRecord.action.like(_escape_like(action) + "%", escape="\\"))
        else:
            query = query.where(AuditRecord.action == action)
    if filters.get("target_type"):
        query = query.where(AuditRecord.target_type == filters["target_type"])
    if filters.get("target_id"):
        query = query.where(AuditRecord.target_id == filters["target_id"])
    if filters.get("from"):
        query = query.where(AuditRecord.at >= local_midnight(filters["from"]))
    if filters.get("to"):
        end = local_midnight(filters["to"] + dt.timedelta(days=1))
        query = query.where(AuditRecord.at < end)
    return query


def actor_names(dbsession: Any, records: Iterable[AuditRecord]) -> dict[Any, str]:
    """``{actor_id: display name}`` of the staff and customers who wrote ``records`` (2 queries
    at most, whatever their number)."""
    records = list(records)
    names: dict[Any, str] = {}
    for model, kind in ((StaffUser, "staff"), (Customer, "customer")):
        ids = {r.actor_id for r in records if r.actor_kind == kind and r.actor_id}
        if ids:
            for row in dbsession.scalars(select(model).where(model.id.in_(ids))):
                names[row.id] = row.display_name
    return names


def record_json(record: AuditRecord, names: Mapping[Any, str]) -> dict[str, Any]:
    changes = record.changes or {}
    return {
        "id": str(record.id),
        "at": record.at.isoformat(),
        "actor": {
            "kind": record.actor_kind,
            "id": str(record.actor_id) if record.actor_id else None,
            "email": record.actor_email,
            "name": names.get(record.actor_id, record.actor_email or record.actor_kind),
        },
        "action": record.action,
        "target": {"type": record.target_type, "id": record.target_id},
        "before": changes.get("before") or {},
        "after": changes.get("after") or {},
        "client_addr": record.client_addr,
        "request_id": record.request_id,
    }


def page(request: Any, filters: Mapping[str, Any]) -> dict[str, Any]:
    """One keyset page of the log, newest first: ``{items, next_cursor}`` (:func:`record_json`)."""
    from ..api.pagination import keyset_page

    answer = keyset_page(request, request.dbsession, statement(filters), AuditRecord, lambda r: r)
    names = actor_names(request.dbsession, answer["items"])
    answer["items"] = [record_json(r, names) for r in answer["items"]]
    return answer


# --- timelines ---------------------------------------------------------------------------------


def _moment(value: Any) -> dt.datetime | None:
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return None
    if not isinstance(value, dt.datetime):
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _entry(raw: Any, source: str) -> dict[str, Any] | None:
    if not isinstance(raw, Mapping):
        return None
    at = _moment(raw.get("at"))
    if at is None or not raw.get("title"):
        return None
    return {
        "at": at.astimezone(dt.UTC),
        "kind": str(raw.get("kind") or "event"),
        "title": str(raw["title"]),
        "detail": str(raw.get("detail") or ""),
        "source": str(raw.get("source") or source),
    }


def _audit_entry(record: AuditRecord, names: Mapping[Any, str]) -> dict[str, Any]:
    changes = record.changes or {}
    parts = []
    after = changes.get("after") or {}
    before = changes.get("before") or {}
    for key in sorted(set(before) | set(after)):
        if key in before and key in after:
            parts.append(f"{key}: {before[key]} → {after[key]}")
        elif key in after:
            parts.append(f"{key}: {after[key]}")
    who = names.get(record.actor_id, record.actor_email or record.actor_kind)
    return {
        "at": record.at,
        "kind": "audit",
        "title": f"{record.action} by {who}",
        "detail": "; ".join(parts),
        "source": "core",
    }


def timeline(request: Any, *, booking: Any = None, customer: Any = None) -> list[dict[str, Any]]:
    """The history of one booking or one customer, newest first: its audit records, the
    booking's status history and what plugins add through ``totetaxi_timeline``.

    Each entry: ``at`` (aware UTC datetime), ``kind``, ``title``, ``detail``, ``source``. A
    plugin's malformed entry is left out (and logged), never the whole timeline.
    """
    from ..bookings.models import Booking, BookingEvent

    db = request.dbsession
    if booking is not None:
        booking_ids = [booking.id]
        targets = [AuditRecord.target_type == "booking", AuditRecord.target_id == str(booking.id)]
        audit_query = select(AuditRecord).where(*targets)
    else:
        booking_ids = list(
            db.scalars(
                select(Booking.id)
                .where(Booking.customer_id == customer.id)
                .order_by(Booking.created_at.desc())
                .limit(TIMELINE_LIMIT)
            )
        )
        from sqlalchemy import and_, or_

        wanted = [
            and_(AuditRecord.target_type == "customer", AuditRecord.target_id == str(customer.id))
        ]
        if booking_ids:
            wanted.append(
                and_(
                    AuditRecord.target_type == "booking",
                    AuditRecord.target_id.in_([str(i) for i in booking_ids]),
                )
            )
        audit_query = select(AuditRecord).where(or_(*wanted))
    records = list(
        db.scalars(
            audit_query.order_by(AuditRecord.at.desc(), AuditRecord.id.desc()).limit(TIMELINE_LIMIT)
        )
    )
    names = actor_names(db, records)
    entries = [_audit_entry(r, names) for r in records]
    if booking_ids:
        events = db.scalars(
            select(BookingEvent)
            .where(BookingEvent.booking_id.in_(booking_ids))
            .order_by(BookingEvent.at.desc(), BookingEvent.id.desc())
            .limit(TIMELINE_LIMIT)
        )
        numbers = {}
        if booking is None:
            rows = db.execute(select(Booking.id, Booking.number).where(Booking.id.in_(booking_ids)))
            numbers = {row[0]: row[1] for row in rows}
        for event in events:
            prefix = f"{numbers[event.booking_id]}: " if event.booking_id in numbers else ""
            entries.append(
                {
                    "at": event.at,
                    "kind": "status",
                    "title": f"{prefix}Status {event.status}",
                    "detail": " — ".join(p for p in (event.message, event.note) if p),
                    "source": "core",
                }
            )
    for entry in entries:
        entry["at"] = _moment(entry["at"]).astimezone(dt.UTC)
    answers = request.hooks.call(
        "totetaxi_timeline", request=request, booking=booking, customer=customer
    )
    for answer in answers or ():
        for raw in answer or ():
            shaped = _entry(raw, "plugin")
            if shaped is None:
                log.warning("timeline entry left out (malformed): %r", raw)
                continue
            entries.append(shaped)
    entries.sort(key=lambda e: e["at"], reverse=True)
    return entries


def timeline_json(entries: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [{**entry, "at": entry["at"].isoformat()} for entry in entries]
