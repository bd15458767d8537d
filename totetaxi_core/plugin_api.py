"""The public API of the core for plugin authors: everything a plugin may import from the core.

A plugin imports from this module only (``from totetaxi_core.plugin_api import Manifest, ...``),
never from the core's other modules and never from another plugin; ``make lint`` enforces it with
import-linter contracts. Its migrations may also use :mod:`totetaxi_core.db.types` (what Alembic's
autogenerate writes) and :mod:`totetaxi_core.db.append_only` (``op.create_append_only_triggers``),
and its tests :mod:`totetaxi_core.testing`. Anything not listed in
``__all__`` is an internal of the core and may change without notice.

A view documents its answers for the OpenAPI document with ``response_schemas=answers(status,
Body(), "what it is", errors={409: "why"})`` (body schemas written with ``text``, ``whole``,
``flag``, ``moment``, ``day``, ``free``, ``listing``, ``page_of``, ``nullable``; see
:mod:`totetaxi_core.api.responses`), and a list's query string with
``schema=page_query(status=...)`` and Cornice's ``colander_validator``.

The names are grouped as a plugin meets them: declaring the plugin, persistence, errors, the REST
API, bookings, identity and permissions, the console, and background work. Helpers shared by
every plugin instead of copies: money (``format_money``, ``parse_money``, ``money_input``), business
time (``BUSINESS_TZ``, ``local_today``, ``format_local``), ``get_or_404``, ``AppendOnly``, the
console form parsers (``FieldError``, ``read_form``, ``text_field``, ``colander_errors``, ...)
and the service labels of the catalog (``service_label``).

Besides these names, a plugin's ``includeme`` uses the core's configuration directives:

* ``config.add_hookimpls(module_or_object)`` — register hook implementations (:data:`hookimpl`);
* ``config.add_hookspecs(module)`` — declare the plugin's own hooks, marked with
  :data:`hookspec` and named ``totetaxi_<plugin>_<event>`` (pytest's ``pytest_addhooks``);
* ``config.add_task(func, name=...)`` and ``config.add_periodic_task(name, every, entry=None)``
  — background and periodic work (never by writing into Celery's configuration);
* ``config.register_service(obj, name="<plugin>.<thing>")`` and
  ``config.register_service_factory(factory, name=...)`` (pyramid_services) — the plugin's
  state, found again with :func:`find_service` (never as attributes set on the registry); reference
  data every request reads (rates, a catalog) as a :class:`Snapshot`, served from memory and
  re-checked against the database at most once a second;
* ``config.accept_any_body(path, max_bytes=None)`` — a path that authenticates by signature
  (a webhook, a signed upload form) may receive a body that is not JSON, and with
  ``max_bytes`` one larger than ``totetaxi.max_body_bytes``;
* Pyramid's own (``add_route``, ``scan``, ``include``...).

A mistake in these registrations (a name twice, a bad period) raises :class:`RegistrationError`.
Console pages run under a Content-Security-Policy that allows scripts and styles from this
origin's files only (``config.add_static_view``); a page that shows untrusted HTML in a sandboxed
``<iframe srcdoc>`` widens it with :func:`allow_csp_sources`.
The booking page's panels come from the ``totetaxi_booking_panels`` hook; a panel whose form was
refused shows it by rendering the page again with :func:`render_booking_page`.
"""

from __future__ import annotations

from . import audit as _audit
from .addresses import ADDRESS_FIELDS, ADDRESS_LABELS
from .api.errors import API_PREFIX, json_error, no_content
from .api.idempotency import claim_form_token
from .api.pagination import PAGE_QUERY, decode_cursor, encode_cursor, keyset_page, page_query
from .api.responses import (
    answers,
    day,
    flag,
    free,
    listing,
    moment,
    nullable,
    page_of,
    text,
    whole,
)
from .api.schemas import (
    CleanString,
    IsoDate,
    OneOf,
    QueryChoices,
    QueryInteger,
    StrictBoolean,
    StrictInteger,
    StrictMapping,
    Uuid,
    strict,
)
from .bookings.api import ACT as BOOKING_ACT
from .bookings.api import READ as BOOKING_READ
from .bookings.api import BookingContext
from .bookings.cancellation import cancellation_terms
from .bookings.editing import NotEditable
from .bookings.lifecycle import (
    BookingHeld,
    TransitionRefused,
    can_transition,
    holds_of,
    record_event,
    transition,
)
from .bookings.models import Address, Booking, BookingStatus
from .bookings.schemas import BookingBody
from .bookings.search import NUMBER as BOOKING_NUMBER
from .bookings.service_labels import service_label, service_labels
from .bookings.services import BookingRefused, TooLateToCancel, token_matches
from .bookings.services import cancel as cancel_booking
from .bookings.services import create as create_booking
from .bookings.services import reschedule as reschedule_booking
from .business_time import BUSINESS_TZ, format_local, local_datetime, local_midnight, local_today
from .console.bookings import entries_panel, render_booking_page
from .console.forms import (
    FieldError,
    Fields,
    colander_errors,
    control_characters,
    field_of,
    integer_field,
    money_field,
    optional,
    parse_date,
    parse_flag,
    read_form,
    text_field,
)
from .context import Context
from .customer_messages import customer_message_templates, send_customer_message
from .db import Base, SoftDelete, Timestamps, UTCDateTime, UUIDPrimaryKey, utcnow, value_enum
from .db.append_only import AppendOnly
from .db.lookup import get_or_404
from .db.upsert import insert_for
from .errors import CapacityExhausted, InvalidDraft, Refused, RegistrationError
from .hooks import hookimpl, hookspec
from .identity.contexts import OwnedContext
from .identity.models import Customer, SavedAddress, StaffUser
from .identity.permissions import Permission
from .identity.secrets import accepted_secrets
from .identity.security import signed_in_customer
from .identity.services import RESET_TOKEN_LIFETIME, request_password_reset, set_customer_active
from .live import LiveEvent, booking_event, publish_live, staff_event
from .money import MAX_CENTS, MoneyInputError, format_money, money_input, parse_money
from .ops.headers import allow_csp_sources
from .ops.metrics import count_email_failure, count_webhook_failure
from .plugins import Manifest
from .service_registry import find_service
from .settings import Setting
from .snapshots import Snapshot

#: Append a staff action to the audit trail in the current transaction:
#: ``record_audit(ctx, action, target_type=..., target_id=..., before=..., after=...)``.
record_audit = _audit.record
#: Reduce two snapshots to the keys that differ: ``before, after = audit_changes(before, after)``.
audit_changes = _audit.changed

#: Everything that keeps a booking from going ahead (hook ``totetaxi_booking_holds``, every
#: plugin's answers): ``booking_holds(ctx, booking) -> [{"code", "description"}]``.
booking_holds = holds_of

# ``create_booking(ctx, body, customer)`` is the core's booking creation (priced, checked,
# capacity reserved, numbered, ``totetaxi_booking_created`` fired) for a body ``BookingBody``
# validated: a staff member booking for a customer by phone calls it with that customer.
# ``cancel_booking(ctx, booking, reason, by_staff)`` and ``reschedule_booking(ctx, booking,
# date, time_window, by_staff)`` are the core's own cancellation and move (the policy, the
# capacity, the price and the hooks that follow); they raise ``TransitionRefused``,
# ``TooLateToCancel``, ``NotEditable``, ``BookingRefused`` (422: rules), ``CapacityExhausted``.
# ``request_password_reset(ctx, email)`` sends a customer the reset link (staff may trigger it
# for customer care), ``set_customer_active(ctx, customer, active)`` disables an account (its
# sessions and tokens end) or re-enables it; both audited.
# ``customer_message_templates(ctx)`` lists the emails staff may send a customer by hand and
# ``send_customer_message(ctx, customer, template, message)`` queues one (``InvalidDraft``
# naming ``template``, ``message`` or ``customer`` otherwise); the caller audits.
# ``BookingHeld`` (a ``TransitionRefused``) is what ``transition`` raises when a hold keeps a
# booking from ``in_progress``; its ``holds`` lists them.

# What the names added for plugin authors with the registration directives are (see above):
# ``hookspec`` marks a plugin's own hookspecs (pluggy's marker of project ``totetaxi``),
# ``find_service(request | ctx | registry, name)`` finds a registered service,
# ``insert_for(dbsession, Model)`` is the dialect's ``insert`` with ``on_conflict_do_nothing``
# (one statement instead of read-then-write, on PostgreSQL and SQLite alike),
# ``entries_panel(title, entries, order=100)`` is a ready-made panel listing dated entries
# (``{"at", "title", "detail"}``) newest first, for ``totetaxi_booking_panels`` or
# ``totetaxi_customer_panels``,
# ``publish_live(ctx_or_request, event)`` sends a ``LiveEvent`` to the live subscribers once the
# transaction commits (never before, never on abort): ``booking_event(type, booking, data)``
# for the booking's customer, guest and staff, ``staff_event(type, data)`` for the console.
# ``count_webhook_failure(provider, reason="signature")`` and ``count_email_failure(provider,
# outcome)`` (``retrying`` or ``failed``) count a refused webhook delivery and a failed email
# attempt for ``/metrics``; labels come from the plugin's code, never from the request.
# ``render_booking_page(request, booking, *, panel_state=None, status=200)`` renders the
# console's booking page for a plugin's view, ``RegistrationError`` is what a bad registration
# raises.

__all__ = [
    "ADDRESS_FIELDS",
    "ADDRESS_LABELS",
    "API_PREFIX",
    "BOOKING_ACT",
    "BOOKING_NUMBER",
    "BOOKING_READ",
    "BUSINESS_TZ",
    "MAX_CENTS",
    "PAGE_QUERY",
    "RESET_TOKEN_LIFETIME",
    "Address",
    "AppendOnly",
    "Base",
    "Booking",
    "BookingBody",
    "BookingContext",
    "BookingHeld",
    "BookingRefused",
    "BookingStatus",
    "CapacityExhausted",
    "CleanString",
    "Context",
    "Customer",
    "FieldError",
    "Fields",
    "InvalidDraft",
    "IsoDate",
    "LiveEvent",
    "Manifest",
    "MoneyInputError",
    "NotEditable",
    "OneOf",
    "OwnedContext",
    "Permission",
    "QueryChoices",
    "QueryInteger",
    "Refused",
    "RegistrationError",
    "SavedAddress",
    "Setting",
    "Snapshot",
    "SoftDelete",
    "StaffUser",
    "StrictBoolean",
    "StrictInteger",
    "StrictMapping",
    "Timestamps",
    "TooLateToCancel",
    "TransitionRefused",
    "UTCDateTime",
    "UUIDPrimaryKey",
    "Uuid",
    "accepted_secrets",
    "allow_csp_sources",
    "answers",
    "audit_changes",
    "booking_event",
    "booking_holds",
    "can_transition",
    "cancel_booking",
    "cancellation_terms",
    "claim_form_token",
    "colander_errors",
    "control_characters",
    "count_email_failure",
    "count_webhook_failure",
    "create_booking",
    "customer_message_templates",
    "day",
    "decode_cursor",
    "encode_cursor",
    "entries_panel",
    "field_of",
    "find_service",
    "flag",
    "format_local",
    "format_money",
    "free",
    "get_or_404",
    "hookimpl",
    "hookspec",
    "insert_for",
    "integer_field",
    "json_error",
    "keyset_page",
    "listing",
    "local_datetime",
    "local_midnight",
    "local_today",
    "moment",
    "money_field",
    "money_input",
    "no_content",
    "nullable",
    "optional",
    "page_of",
    "page_query",
    "parse_date",
    "parse_flag",
    "parse_money",
    "publish_live",
    "read_form",
    "record_audit",
    "record_event",
    "render_booking_page",
    "request_password_reset",
    "reschedule_booking",
    "send_customer_message",
    "service_label",
    "service_labels",
    "set_customer_active",
    "signed_in_customer",
    "staff_event",
    "strict",
    "text",
    "text_field",
    "token_matches",
    "transition",
    "utcnow",
    "value_enum",
    "whole",
]
