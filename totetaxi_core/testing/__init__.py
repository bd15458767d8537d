"""``totetaxi_core.testing``: the test kit of the core and of every plugin.

Installed with the ``test`` extra (``pip install totetaxi-core[test]``) and loaded by pytest as
the plugin ``totetaxi`` (entry point ``pytest11``), so a plugin kept in another repository is
tested the same way as the core: the fixtures (``backend``, ``pg_backend``, ``db_url``,
``make_testapp``, ``testapp``, ``new_client``, ``redis_url``, ``redis_app``) need no import,
and the helpers below are imported from here. Importing :mod:`totetaxi_core` never imports
this package (nor pytest or WebTest).

Markers: ``both_databases`` (run on SQLite *and* PostgreSQL; everything else runs on SQLite
unless ``--matrix`` / ``TOTETAXI_TEST_MATRIX=1``), ``postgresql``, ``redis``, ``worker``.
"""

from __future__ import annotations

from .concurrency import free_port, race
from .contracts import SlotContract
from .databases import (
    IN_CI,
    PG_ADMIN_URL,
    REDIS_URL,
    Backend,
    base_settings,
    get_backend,
    migrated_plugins,
    service_unavailable,
)
from .factories import (
    DELIVERY,
    GUEST,
    PICKUP,
    booking_body,
    create_booking,
    make_booking,
    make_customer,
)
from .identity import (
    STRONG_PASSWORD,
    bearer,
    console_sign_in,
    csrf_token_in,
    in_transaction,
    make_staff,
    register_customer,
)
from .metrics import metric_value

__all__ = [
    "DELIVERY",
    "GUEST",
    "IN_CI",
    "PG_ADMIN_URL",
    "PICKUP",
    "REDIS_URL",
    "STRONG_PASSWORD",
    "Backend",
    "SlotContract",
    "base_settings",
    "bearer",
    "booking_body",
    "console_sign_in",
    "create_booking",
    "csrf_token_in",
    "free_port",
    "get_backend",
    "in_transaction",
    "make_booking",
    "make_customer",
    "make_staff",
    "metric_value",
    "migrated_plugins",
    "race",
    "register_customer",
    "service_unavailable",
]
