"""The audit log: one call, :func:`record`, for the core and every plugin.

Every staff change to data writes one record in the same transaction as the change::

    from totetaxi_core import audit
    audit.record(ctx, "pricing.price_changed", "service", code,
                 before={"price_cents": 99500}, after={"price_cents": 105000})
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .models import AuditRecord

if TYPE_CHECKING:
    from ..context import Context

__all__ = ["AuditRecord", "changed", "record"]


def _plain(value: Any) -> Any:
    """A JSON-safe copy of ``value`` (UUIDs, dates, enums as strings)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, uuid.UUID | dt.date | dt.datetime):
        return str(value) if isinstance(value, uuid.UUID) else value.isoformat()
    return value


def changed(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[dict, dict]:
    """Only the keys whose values differ, as (before, after)."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def record(
    ctx: Context,
    action: str,
    target_type: str,
    target_id: Any = "",
    *,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    actor: Any = None,
) -> AuditRecord:
    """Append an audit record in ``ctx``'s transaction and return it.

    ``action`` is a dotted verb (``staff.role_changed``); ``target_type``/``target_id`` name the
    object; ``before``/``after`` the values that changed. The actor defaults to ``ctx.actor``; the
    client address and request id come from the request when there is one.
    """
    actor = actor if actor is not None else ctx.actor
    request = ctx.request
    entry = AuditRecord(
        actor_kind=str(getattr(actor, "kind", "system")),
        actor_id=getattr(actor, "id", None),
        actor_email=getattr(actor, "email", ""),
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        changes={"before": _plain(before or {}), "after": _plain(after or {})},
        client_addr=(request.client_addr or "") if request is not None else "",
        request_id=str(ctx.extra.get("request_id") or ""),
    )
    ctx.dbsession.add(entry)
    return entry
