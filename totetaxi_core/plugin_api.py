"""The public API of the core for plugin authors: everything a plugin may import from the core.

A plugin imports from this module only (``from totetaxi_core.plugin_api import Manifest, ...``),
never from the core's other modules and never from another plugin; ``make lint`` enforces it with
import-linter contracts. Its migrations may also use :mod:`totetaxi_core.db.types` (what Alembic's
autogenerate writes) and its tests :mod:`totetaxi_core.testing`. Anything not listed in
``__all__`` is an internal of the core and may change without notice.

The names are grouped as a plugin meets them: declaring the plugin, persistence, errors, the REST
API, bookings, identity and permissions, the console, and background work.

Besides these names, a plugin's ``includeme`` uses the core's configuration directives:

* ``config.add_hookimpls(module_or_object)`` — register hook implementations (:data:`hookimpl`);
* ``config.add_hookspecs(module)`` — declare the plugin's own hooks, marked with
  :data:`hookspec` and named ``totetaxi_<plugin>_<event>`` (pytest's ``pytest_addhooks``);
* ``config.add_task(func, name=...)`` and ``config.add_periodic_task(name, every, entry=None)``
  — background and periodic work (never by writing into Celery's configuration);
* ``config.register_service(obj, name="<plugin>.<thing>")`` and
  ``config.register_service_factory(factory, name=...)`` (pyramid_services) — the plugin's
  state, found again with :func:`find_service` (never as attributes set on the registry);
* Pyramid's own (``add_route``, ``scan``, ``include``...).

A mistake in these registrations (a name twice, a bad period) raises :class:`RegistrationError`.
The booking page's panels come from the ``totetaxi_booking_panels`` hook; a panel whose form was
refused shows it by rendering the page again with :func:`render_booking_page`.
"""

from __future__ import annotations

from . import audit as _audit
from .api.errors import API_PREFIX, json_error, no_content
from .api.idempotency import claim_form_token
from .api.pagination import decode_cursor, encode_cursor, keyset_page
from .api.schemas import CleanString, IsoDate, StrictBoolean, StrictInteger, strict
from .bookings.api import ACT as BOOKING_ACT
from .bookings.api import READ as BOOKING_READ
from .bookings.api import BookingContext
from .bookings.lifecycle import record_event, transition
from .bookings.models import Address, Booking, BookingStatus
from .bookings.search import NUMBER as BOOKING_NUMBER
from .bookings.services import token_matches
from .console.bookings import render_booking_page
from .console.helpers import local_time, money
from .context import Context
from .db import Base, SoftDelete, Timestamps, UTCDateTime, UUIDPrimaryKey, utcnow
from .errors import CapacityExhausted, InvalidDraft, Refused, RegistrationError
from .hooks import hookimpl, hookspec
from .identity.contexts import OwnedContext
from .identity.models import Customer, StaffUser
from .identity.permissions import Permission
from .identity.security import signed_in_customer
from .identity.services import RESET_TOKEN_LIFETIME
from .plugins import Manifest
from .service_registry import find_service
from .settings import Setting

#: Append a staff action to the audit trail in the current transaction:
#: ``record_audit(ctx, action, target_type=..., target_id=..., before=..., after=...)``.
record_audit = _audit.record
#: Reduce two snapshots to the keys that differ: ``before, after = audit_changes(before, after)``.
audit_changes = _audit.changed

# What the names added for plugin authors with the registration directives are (see above):
# ``hookspec`` marks a plugin's own hookspecs (pluggy's marker of project ``totetaxi``),
# ``find_service(request | ctx | registry, name)`` finds a registered service,
# ``render_booking_page(request, booking, *, panel_state=None, status=200)`` renders the
# console's booking page for a plugin's view, ``RegistrationError`` is what a bad registration
# raises.

__all__ = [
    "API_PREFIX",
    "BOOKING_ACT",
    "BOOKING_NUMBER",
    "BOOKING_READ",
    "RESET_TOKEN_LIFETIME",
    "Address",
    "Base",
    "Booking",
    "BookingContext",
    "BookingStatus",
    "CapacityExhausted",
    "CleanString",
    "Context",
    "Customer",
    "InvalidDraft",
    "IsoDate",
    "Manifest",
    "OwnedContext",
    "Permission",
    "Refused",
    "RegistrationError",
    "Setting",
    "SoftDelete",
    "StaffUser",
    "StrictBoolean",
    "StrictInteger",
    "Timestamps",
    "UTCDateTime",
    "UUIDPrimaryKey",
    "audit_changes",
    "claim_form_token",
    "decode_cursor",
    "encode_cursor",
    "find_service",
    "hookimpl",
    "hookspec",
    "json_error",
    "keyset_page",
    "local_time",
    "money",
    "no_content",
    "record_audit",
    "record_event",
    "render_booking_page",
    "signed_in_customer",
    "strict",
    "token_matches",
    "transition",
    "utcnow",
]
