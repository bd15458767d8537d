"""Every hook of the platform, with its documentation (DESIGN §3).

Implementations are plain functions decorated with :data:`totetaxi_core.hooks.hookimpl`, in a
plugin's ``hooks.py``, registered from its ``includeme`` with ``config.add_hookimpls(hooks)``.
An implementation may accept any subset of a hook's arguments, by name.

``ctx`` is the unit of work (:class:`totetaxi_core.context.Context`): ``ctx.dbsession`` is the
current transaction's session, ``ctx.enqueue(...)`` queues a background task through the outbox,
``ctx.settings`` the validated settings, ``ctx.actor`` who acts (``None`` for the system).
Event implementations write rows with ``ctx.dbsession`` and queue work with ``ctx.enqueue``;
they never do network I/O inline (the transaction may still roll back).

``docs/hooks.md`` (the hook reference) lists every hook here; a test fails when one is missing
there.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any, TypeAlias

import pluggy
from pyramid.registry import Registry
from pyramid.request import Request

from ..bookings.models import Booking
from ..context import Context
from ..identity.models import Customer, StaffUser

hookspec = pluggy.HookspecMarker("totetaxi")

#: A row of a plugin's own model (payments' ``Payment`` and ``Refund``, logistics' delivery task,
#: a document): the core cannot name its class (it never imports a plugin).
PluginRow: TypeAlias = Any
#: A slot provider's object (a payment gateway, a dispatcher, ...): its protocol belongs to the
#: plugin that defines the slot.
Provider: TypeAlias = Any

# --- Capabilities: one answer, from the plugin that provides the slot ----------------------


@hookspec(firstresult=True)
def totetaxi_quote(ctx: Context, draft: dict[str, Any]) -> dict[str, Any] | None:
    """Price a booking draft (the fields of ``POST /quotes``).

    Return the quote breakdown of API.md (``lines``, ``surcharges``, ``fees``, ``subtotal_cents``,
    ``total_cents``, ``currency``, ``high_value``), or ``None`` to let another plugin answer.
    Raise :class:`totetaxi_core.errors.InvalidDraft` naming the field for input that cannot be
    priced. Must not write anything.
    """


@hookspec(firstresult=True)
def totetaxi_availability(
    ctx: Context, start: dt.date, end: dt.date, service_type: str | None
) -> list[dict[str, Any]] | None:
    """Availability for each date from ``start`` to ``end`` inclusive (``datetime.date``).

    Return ``[{date, available, remaining, specialty_remaining, surcharges}]`` as API.md shows.
    """


@hookspec(firstresult=True)
def totetaxi_service_labels(ctx: Context) -> dict[str, str] | None:
    """The catalog's display names of the service types: ``{"mini_move": "Mini Move", ...}``.

    The plugin that owns the catalog answers (pricing); everyone else shows a service through
    :func:`totetaxi_core.plugin_api.service_label` instead of keeping a copy of the names.
    """


@hookspec(firstresult=True)
def totetaxi_payment_gateway(ctx: Context) -> Provider | None:
    """Return the payment gateway object (slot ``payment_gateway``)."""


@hookspec(firstresult=True)
def totetaxi_dispatcher(ctx: Context) -> Provider | None:
    """Return the delivery dispatcher object (slot ``dispatcher``)."""


@hookspec(firstresult=True)
def totetaxi_file_storage(ctx: Context) -> Provider | None:
    """Return the file storage object (slot ``file_storage``)."""


@hookspec(firstresult=True)
def totetaxi_mailer(ctx: Context) -> Provider | None:
    """Return the mailer object (slot ``mailer``)."""


# --- Rules: every plugin may object ----------------------------------------------------------


@hookspec
def totetaxi_validate_booking(
    ctx: Context, draft: dict[str, Any], quote: dict[str, Any] | None, customer: Customer | None
) -> list[dict[str, str]] | None:
    """Business-rule problems with a booking about to be created or changed.

    Return a list of ``{"name": field, "description": sentence}`` (empty or ``None`` when fine).
    The core gathers the problems of every plugin and refuses the booking with all of them (422).
    A problem may add ``"status": 409`` (a conflict with other bookings rather than a broken
    rule: the answer is 409) and ``"capacity": True`` (the day is full: a staff edit of a booking
    that already holds a van skips it and lets ``totetaxi_reserve_capacity`` decide).
    """


@hookspec
def totetaxi_booking_holds(ctx: Context, booking: Booking) -> list[dict[str, str]] | None:
    """What keeps ``booking`` from going ahead (being dispatched, moving to ``in_progress``).

    Return ``[{"code": "coi_missing", "description": "A sentence for staff and customer."}]``
    (empty or ``None`` when nothing holds it). The documents plugin holds a high-value booking
    without an approved certificate of insurance valid on its pickup date; the lifecycle refuses
    ``in_progress`` while anything holds the booking and logistics does not dispatch it. When a
    hold lifts, the plugin that held it fires the event that says so (``totetaxi_document_reviewed``
    for a COI), and whoever waits on it asks again. Must not write anything.
    """


# --- Capacity: called inside the booking transaction ------------------------------------------


@hookspec
def totetaxi_reserve_capacity(ctx: Context, booking: Booking) -> None:
    """Take the capacity ``booking`` needs, in the current transaction.

    The booking offers ``pickup_date`` (a ``datetime.date``), ``service_type`` and
    ``specialty_items`` (empty when none): a specialty item needs a specialty-equipped van.

    Raise :class:`totetaxi_core.errors.CapacityExhausted` when the day is full; the core answers
    409 and the whole transaction rolls back. Must hold a row lock (or equivalent) so two
    transactions can never both take a day's last slot.
    """


@hookspec
def totetaxi_release_capacity(ctx: Context, booking: Booking) -> None:
    """Give back the capacity ``booking`` held (it was cancelled or moved to another date)."""


# --- Events: something happened in this transaction -------------------------------------------


@hookspec
def totetaxi_booking_created(ctx: Context, booking: Booking, tracking_token: str | None) -> None:
    """A booking was created (after its row exists, before commit).

    ``tracking_token`` is a guest booking's plain tracking token (``None`` for a customer's):
    the only moment it exists outside the guest's hands, so that an email can carry their link.
    Store it only sealed or hashed.
    """


@hookspec
def totetaxi_booking_status_changed(
    ctx: Context, booking: Booking, old_status: str, new_status: str, reason: str | None
) -> None:
    """A booking moved from ``old_status`` to ``new_status`` through the state machine.

    ``reason`` is internal when ``ctx.actor`` is staff (tracking shows the standard message
    instead): never send a staff member's reason to the customer.
    """


@hookspec
def totetaxi_booking_changed(ctx: Context, booking: Booking, changes: dict[str, Any]) -> None:
    """Staff edited ``booking``; ``changes`` maps each changed field to ``{"before", "after"}``.

    Priced fields (``date``, ``package``, ``item_count``, ``specialty_items``, ...) come with
    ``total_cents`` when the new quote costs something else: a payments plugin settles the
    difference, a dispatcher moves its tasks. Capacity has already been moved.
    """


@hookspec
def totetaxi_payment_succeeded(ctx: Context, payment: PluginRow, booking: Booking) -> None:
    """A payment for ``booking`` settled."""


@hookspec
def totetaxi_payment_failed(
    ctx: Context, payment: PluginRow, booking: Booking, reason: str, attempts_left: int
) -> None:
    """A payment attempt for ``booking`` failed with ``reason``.

    ``attempts_left`` counts the attempts the booking has before it is cancelled, over all its
    payments (0: this failure cancels it, or it no longer waits for payment).
    """


@hookspec
def totetaxi_refund_completed(
    ctx: Context, refund: PluginRow, payment: PluginRow, booking: Booking
) -> None:
    """A refund went through at the gateway."""


@hookspec
def totetaxi_delivery_updated(
    ctx: Context, task: PluginRow, booking: Booking, status: str, key: str
) -> None:
    """A delivery task of ``booking`` changed: ``status`` says what happened.

    ``assigned`` (a driver took it, or another driver: a reassignment), ``unassigned``,
    ``started`` (the driver set off), ``eta`` (a new estimate), ``arrived``, ``picked_up``
    (the pickup is done), ``delivered`` (the drop-off is done), ``failed`` (with
    ``task.failure_reason``), ``rescheduled`` (a new attempt on another date or window) and
    ``cancelled``. The task offers ``kind`` (``pickup``/``dropoff``), ``driver_name`` (a first
    name), ``eta`` (aware UTC or ``None``), ``complete_after``/``complete_before`` and
    ``failure_reason``.

    ``key`` identifies this update: the same provider event applied twice never fires twice,
    and a reassignment to another driver has a new key. Use it to send a message once.
    """


@hookspec
def totetaxi_document_reviewed(
    ctx: Context, document: PluginRow, booking: Booking, decision: str
) -> None:
    """Staff approved or rejected a document (a COI) of ``booking``."""


@hookspec
def totetaxi_coi_attention(
    ctx: Context, booking: Booking, document: PluginRow | None, reason: str
) -> None:
    """``booking`` needs a certificate of insurance: ``reason`` is ``missing`` (none accepted
    yet, pickup approaching) or ``expiring`` (the accepted one ends before the move).

    ``document`` is the COI concerned, or ``None`` when there is none. The documents plugin
    fires it; the notifications plugin emails the customer.
    """


@hookspec
def totetaxi_password_reset_requested(
    ctx: Context, principal: StaffUser | Customer, reset_url: str
) -> None:
    """Somebody asked to reset ``principal``'s password; ``reset_url`` is the single-use link.

    The notifications plugin queues the email; without it the development set-up logs the link.
    """


@hookspec
def totetaxi_customer_message_templates(ctx: Context) -> list[dict[str, str]] | None:
    """Emails staff may send a customer by hand (customer care), as ``[{key, name,
    description}]``: ``key`` is what :func:`totetaxi_send_customer_message` takes, ``name`` and
    ``description`` are shown in the console's picker. Must not write anything.
    """


@hookspec(firstresult=True)
def totetaxi_send_customer_message(
    ctx: Context, customer: Customer, template: str, message: str
) -> str | None:
    """Queue email ``template`` (a key of :func:`totetaxi_customer_message_templates`) to
    ``customer``, with staff's own ``message`` (plain text, may be empty) in it.

    Return the queued email's id, or ``None`` when the template is not this plugin's (another
    plugin may answer). It is sent after commit, like every email. The caller audits.
    """


# --- Operations ----------------------------------------------------------------------------


@hookspec
def totetaxi_readiness_checks(registry: Registry) -> dict[str, Callable[[], Any]] | None:
    """Dependencies this plugin needs in order to serve, checked at every ``GET /readyz``:
    ``{name: check}``, e.g. ``{"storage": storage.check}`` (the documents' file storage).

    ``check()`` takes no argument, returns when the dependency answers and raises when it does
    not (any exception; its message goes to the log only). It must be cheap and bounded in time
    (a few seconds at most: a load balancer is waiting) and change nothing. The core times each
    check and answers 503 naming every one that raised. ``name`` is short and stable (``storage``,
    not a bucket's name); the core's own are ``database``, ``redis``, ``live_redis`` and
    ``broker``, and a name already taken is skipped. Called with the app's ``registry``: find the
    plugin's objects with ``find_service(registry, name)``.
    """


# --- Console and dashboards: contributions gathered from every plugin --------------------------


@hookspec
def totetaxi_console_nav(request: Request) -> list[dict[str, Any]] | None:
    """Console navigation entries: ``[{"title", "route", "role", "order", "group"}]``.

    ``role`` is the least staff role that sees the entry (``viewer``, ``staff``, ``admin``).
    ``group`` (optional, default ``"Operations"``) is the section of the navigation it is listed
    under: ``Operations``, ``Customers``, ``Money``, ``Messages`` or ``Settings`` (another name
    makes a group of its own, after these). ``order`` sorts the entries within their group.
    """


@hookspec
def totetaxi_dashboard_tiles(request: Request, period: str) -> list[dict[str, Any]] | None:
    """Dashboard tiles for ``period`` (``day``, ``week``, ``month``).

    Return ``[{"title", "value", ...}]``; optional keys: ``detail`` (a sentence), ``order``,
    ``route`` (a route name the title links to) and ``alert`` (true: something needs staff now;
    the tile is shown in red).
    """


@hookspec
def totetaxi_dashboard_sections(request: Request, period: str) -> list[dict[str, Any]] | None:
    """Sections of the console home below its tiles, for ``period`` (the home's ``?period=``:
    ``day``, ``week``, ``month``; a plugin may read more of ``request.GET``).

    Return ``[{"template", "context", "order"}]``: ``template`` an asset spec rendered with
    ``context`` (and ``request``). A section that refuses the query string sets
    ``request.response.status_int = 400`` and shows why.
    """


@hookspec
def totetaxi_booking_panels(
    request: Request, booking: Booking, panel_state: Mapping[str, Any]
) -> list[dict[str, Any]] | None:
    """Panels on the booking detail page: ``[{"title", "template", "context", "order"}]``.

    ``panel_state`` is empty on a plain GET. A plugin that re-renders the page after refusing
    its panel's form (``render_booking_page(request, booking, panel_state={...}, status=400)``)
    finds there, under its own key, what it passed: the typed values and the errors to show.
    Read only your own key; the mapping is read-only.
    """


@hookspec
def totetaxi_booking_details(request: Request, booking: Booking) -> dict[str, Any] | None:
    """Sections of the staff API's booking, e.g. ``{"payments": [...]}``.

    Keys already answered by the core (``payments``, ``delivery``, ``documents``,
    ``notifications`` start empty) are replaced by a plugin's; answers must be JSON-ready.
    """


@hookspec
def totetaxi_tracking_details(request: Request, booking: Booking) -> dict[str, Any] | None:
    """Sections added to ``GET /track/{number}`` for whoever may read the booking (its guest
    with the token, its customer), e.g. ``{"delivery": {...}}``; answers must be JSON-ready.

    Only what a customer may see: a driver's first name, never staff notes.
    """


@hookspec
def totetaxi_customer_dashboard(request: Request, customer: Customer) -> dict[str, Any] | None:
    """Sections of a customer's ``GET /me/dashboard``, e.g. ``{"payment_methods": [...]}``.

    Replaces the core's empty defaults of the same keys; answers must be JSON-ready.
    """


@hookspec
def totetaxi_customer_panels(request: Request, customer: Customer) -> list[dict[str, Any]] | None:
    """Panels on the console's customer page: ``[{"title", "template", "context", "order"}]``,
    rendered like the booking page's (a panel that fails shows a notice, the page stays up).

    The customer's payments, notifications, documents and the staff's care actions come from
    the plugins that hold them. A panel listing dated entries is one call:
    ``plugin_api.entries_panel(title, entries, order=...)``.
    """


@hookspec
def totetaxi_customer_summary(request: Request, customer: Customer) -> dict[str, Any] | None:
    """Facts about ``customer`` for the console's customer page, e.g. ``{"saved cards": 2}``."""


@hookspec
def totetaxi_timeline(
    request: Request, booking: Booking | None, customer: Customer | None
) -> list[dict[str, Any]] | None:
    """Entries of one booking's or one customer's timeline (exactly one of them is given; the
    other is ``None``): ``[{"at", "kind", "title", "detail", "source"}]``.

    ``at`` is an aware datetime (or its ISO 8601 text), ``kind`` a short word (``payment``,
    ``delivery``, ``document``, ``email``...), ``title`` one line, ``detail`` more text (may be
    empty), ``source`` the plugin's name. The core merges them with the audit records and the
    booking's status history, newest first, on the console's booking and customer pages and at
    ``GET /staff/bookings/{id}/timeline`` and ``GET /staff/customers/{id}/timeline``. Return the
    newest entries only (a hundred or so), with a fixed number of queries; an entry without
    ``at`` or ``title`` is left out.
    """
