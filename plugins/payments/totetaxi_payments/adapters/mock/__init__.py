"""``payments_mock``: a payment gateway that behaves like Stripe's test mode, in-process.

Development only. Its objects (intents, customers, cards, refunds) live in one table of its own,
written in the caller's transaction. Confirming with Stripe's test cards gives Stripe's outcomes
(4242… succeeds, 0002 is declined, 3155 asks for authentication), and every change emits an event
signed exactly as Stripe signs webhooks, delivered after commit by a background task to the same
handler ``POST /payments/webhook`` uses. Its routes (``/payments/mock/...``) exist only while it
is the enabled gateway.
"""

from __future__ import annotations

from pyramid.config import Configurator

from totetaxi_core.plugin_api import Manifest, Setting

from .gateway import MockGateway, webhook_secret
from .models import MockObject
from .tasks import DELIVER_TASK

__all__ = ["DELIVER_TASK", "MockGateway", "MockObject", "includeme", "manifest", "webhook_secret"]

manifest = Manifest(
    name="payments_mock",
    version="1.0.0",
    summary="Development payment gateway imitating Stripe's test mode (test cards, webhooks)",
    depends=("payments",),
    provides=("payment_gateway",),
    development_only=True,
    migrations="totetaxi_payments:adapters/mock_migrations",
    settings=(
        Setting(
            "payments_mock.webhook_secret",
            "",
            kind="secret",
            help="signs the mock's webhooks; derived from totetaxi.secret when empty",
        ),
    ),
)


def includeme(config: Configurator) -> None:
    from . import hooks

    config.add_hookimpls(hooks)
    config.include(".tasks")
    config.include(".api")
