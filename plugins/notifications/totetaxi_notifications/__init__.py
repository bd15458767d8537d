"""Notifications: an email for every event, from staff-editable templates, with retries.

The domain plugin. It needs a ``mailer`` slot provider: ``mail_console`` (development: the log
and a folder under ``var/``) or ``mail_ses`` (production: Amazon SES). Switching one for the
other in ``totetaxi.plugins`` is the only change between the two.
"""

from __future__ import annotations

from pyramid.config import Configurator

from totetaxi_core.plugin_api import Manifest, Setting

from .permissions import GRANTS
from .seed import seed

manifest = Manifest(
    name="notifications",
    version="1.3.0",
    summary="Email on every booking, payment, delivery, refund, COI and password event",
    requires=("mailer",),
    settings=(
        Setting(
            "notifications.from_address",
            "ToteTaxi <bookings@totetaxi.example>",
            help="the From of every email (an SES-verified identity in production)",
        ),
        Setting("notifications.reply_to", "", help="Reply-To of every email (empty: none)"),
        Setting(
            "notifications.support_email",
            "support@totetaxi.example",
            help="the address templates show customers ({{ company.support_email }})",
        ),
        Setting(
            "notifications.booking_path",
            "/bookings/{number}",
            help="path on totetaxi.public_url of a booking's page; {number} is replaced",
        ),
        Setting(
            "notifications.max_attempts",
            5,
            kind="int",
            minimum=1,
            maximum=20,
            help="send attempts before a notification is failed",
        ),
        Setting(
            "notifications.backoff_seconds",
            60,
            kind="int",
            minimum=1,
            maximum=86400,
            help="wait before the 2nd attempt; doubles after each failure",
        ),
        Setting(
            "notifications.retry_sweep_seconds",
            30,
            kind="int",
            minimum=1,
            maximum=3600,
            help="how often due retries are picked up (beat; the request path in eager mode)",
        ),
    ),
    migrations="totetaxi_notifications:migrations/versions",
    seed=seed,
    permissions=GRANTS,
)


def includeme(config: Configurator) -> None:
    from . import hooks

    config.add_hookimpls(hooks)
    config.include(".tasks")
    config.include(".api")
    config.include(".console")
