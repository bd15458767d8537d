"""Live events as services publish them: what happened, for whom, sent after commit.

A service that changed something a page or an app shows builds a :class:`LiveEvent` and hands
it to :func:`publish_live` with its context (or request). The event waits on the transaction
and goes to the live process only once the transaction commits: a rollback, a refused answer
(pyramid_tm aborts 4xx) or a retried attempt (pyramid_retry re-runs the view) publishes nothing
twice and nothing that did not happen. Publishing after commit cannot fail the request: an
error is logged and the event is lost (subscribers catch up by reading the API again when they
reconnect or are told to ``resync``).

Who receives an event is decided by its streams, not by the subscriber: ``booking:<id>``
(whoever may read that booking: its customer, its guest with the tracking token, staff),
``customer:<id>`` (a signed-in customer's own bookings) and ``staff`` (the console). The event's
``data`` is sent as is to all of them, so it holds only what the booking's customer may read:
never a staff member's note.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pyramid.registry import Registry

if TYPE_CHECKING:
    from ..bookings.models import Booking
    from ..context import Context

log = logging.getLogger("totetaxi.live")

#: The console's stream: every staff member may subscribe to it.
STAFF_STREAM = "staff"
#: Where the live publisher is registered (``find_service(registry, PUBLISHER)``).
PUBLISHER = "live.publisher"

_PENDING_KEY = object()  # key of the per-transaction list of events waiting for commit


def booking_stream(booking_id: uuid.UUID | str) -> str:
    """The stream of one booking's events."""
    return f"booking:{booking_id}"


def customer_stream(customer_id: uuid.UUID | str) -> str:
    """The stream of every event of one customer's bookings."""
    return f"customer:{customer_id}"


@dataclass(frozen=True)
class LiveEvent:
    """One thing that happened, for the streams that may know it.

    ``type`` says what (``booking.status``, ``tracking.update``, ``payment.result``,
    ``dashboard.changed``, ``actions.pending``, or a plugin's own ``<plugin>.<what>``); ``data``
    is JSON-ready and sent as is to every subscriber of ``streams``.
    """

    type: str
    data: Mapping[str, Any] = field(default_factory=dict)
    streams: tuple[str, ...] = (STAFF_STREAM,)

    def payload(self) -> dict[str, Any]:
        """What travels from a publisher to the live processes."""
        return {"type": self.type, "data": dict(self.data), "streams": list(self.streams)}


def booking_event(
    type: str, booking: Booking, data: Mapping[str, Any] | None = None, *, staff: bool = True
) -> LiveEvent:
    """An event of ``booking`` for its readers: the booking's stream, its customer's (when it
    has one) and, unless ``staff=False``, the console's.

    ``data`` gets the booking's ``booking_id``, ``number`` and ``status`` (keys of ``data`` win).
    """
    streams = [booking_stream(booking.id)]
    if booking.customer_id is not None:
        streams.append(customer_stream(booking.customer_id))
    if staff:
        streams.append(STAFF_STREAM)
    body = {"booking_id": str(booking.id), "number": booking.number, "status": str(booking.status)}
    body.update(data or {})
    return LiveEvent(type, body, tuple(streams))


def staff_event(type: str, data: Mapping[str, Any] | None = None) -> LiveEvent:
    """An event for the console only (counters, work waiting for staff)."""
    return LiveEvent(type, dict(data or {}), (STAFF_STREAM,))


def publish_live(target: Context | Any, event: LiveEvent) -> None:
    """Send ``event`` to the live subscribers once ``target``'s transaction commits.

    ``target`` is a :class:`~totetaxi_core.context.Context` (a hook's or a task's ``ctx``), a
    request (its transaction), or the registry, for code that runs outside any transaction
    (the event is sent at once). The same event published twice in one transaction is sent
    once. ``data`` must be JSON-serialisable (checked here, so a mistake fails the request
    instead of losing the event).
    """
    try:
        json.dumps(event.data)
    except TypeError as exc:
        raise TypeError(f"data of live event {event.type!r} must be JSON-ready: {exc}") from None
    if isinstance(target, Registry):
        _send(target, [event])
        return
    ctx = getattr(target, "ctx", target)  # a request's ctx, or the context itself
    txn = ctx.transaction_manager.get()
    try:
        pending = txn.data(_PENDING_KEY)
    except KeyError:
        pending = []
        txn.set_data(_PENDING_KEY, pending)
        txn.addAfterCommitHook(_after_commit, args=(ctx.registry, pending))
    if event not in pending:
        pending.append(event)


def _after_commit(success: bool, registry: Registry, events: list[LiveEvent]) -> None:
    # transaction swallows what an after-commit hook raises (PITFALLS 7): log it here.
    if success:
        _send(registry, events)


def _send(registry: Registry, events: Iterable[LiveEvent]) -> None:
    events = list(events)
    try:
        from ..service_registry import find_service

        find_service(registry, PUBLISHER).publish(events)
    except Exception:
        log.exception("live events %s were not published", [e.type for e in events])
