"""``logistics_onfleet``: Onfleet's REST API v2 as the ``dispatcher`` (production).

:class:`~.client.OnfleetDispatcher` speaks Onfleet over one ``httpx`` client with timeouts and
HTTP basic auth (the API key as user name); a 429 is waited out as Onfleet's rate-limit headers
say, a bounded number of times. Tasks carry our task id in their metadata, so a send whose
answer was lost is found again instead of made twice. Webhooks (``POST /api/v1/logistics/
webhook``) are verified with ``X-Onfleet-Signature`` (HMAC-SHA512 keyed with the hex-decoded
webhook secret) and the creation check (``GET ?check=``) is echoed. Workers are synced into the
drivers table periodically. Switching from ``logistics_mock`` needs the ``.ini``'s plugin list
and the two secrets in the environment, nothing else.
"""

from __future__ import annotations

from pyramid.config import Configurator
from totetaxi_core.plugin_api import Manifest, Setting

from .client import OnfleetDispatcher

__all__ = ["DISPATCHER_SERVICE", "OnfleetDispatcher", "includeme", "manifest"]

#: The service holding this app's dispatcher (the hook answers with the same one).
DISPATCHER_SERVICE = "logistics_onfleet.dispatcher"


def _check_hex(value: str) -> str | None:
    if not value:
        return None
    try:
        bytes.fromhex(value)
    except ValueError:
        return "must be the webhook secret as Onfleet shows it (hexadecimal)"
    return None


def _check_hex_list(value: str) -> str | None:
    return next(filter(None, map(_check_hex, value.replace(",", " ").split())), None)


def _check_base(value: str) -> str | None:
    if not value.startswith(("https://", "http://")):
        return f"must be an http(s):// URL, got {value!r}"
    return None


manifest = Manifest(
    name="logistics_onfleet",
    version="1.0.0",
    summary="Onfleet as the dispatcher (tasks, workers, signed webhooks)",
    depends=("logistics",),
    provides=("dispatcher",),
    settings=(
        Setting(
            "logistics_onfleet.api_key",
            kind="secret",
            required=True,
            help="the Onfleet API key (basic auth user name)",
        ),
        Setting(
            "logistics_onfleet.webhook_secret",
            kind="secret",
            required=True,
            help="the organisation's webhook secret, hexadecimal as Onfleet shows it",
            check=_check_hex,
        ),
        Setting(
            "logistics_onfleet.previous_webhook_secrets",
            "",
            kind="secret",
            help="webhook secrets still accepted during a rotation (hex, space or comma "
            "separated); empty once Onfleet signs with the new one",
            check=_check_hex_list,
        ),
        Setting(
            "logistics_onfleet.api_base",
            "https://onfleet.com/api/v2",
            help="Onfleet's API root (tests: a local stub)",
            check=_check_base,
        ),
        Setting(
            "logistics_onfleet.timeout_seconds",
            10,
            kind="int",
            minimum=1,
            maximum=60,
            help="connect and read timeout of each Onfleet request",
        ),
        Setting(
            "logistics_onfleet.driver_sync_seconds",
            900,
            kind="int",
            minimum=60,
            maximum=86400,
            help="how often Onfleet's workers are synced into the drivers table",
        ),
    ),
)


def includeme(config: Configurator) -> None:
    from . import hooks, tasks

    settings = config.get_settings()
    dispatcher = OnfleetDispatcher(
        settings["logistics_onfleet.api_key"],
        settings["logistics_onfleet.webhook_secret"],
        previous_webhook_secrets_hex=settings["logistics_onfleet.previous_webhook_secrets"]
        .replace(",", " ")
        .split(),
        base_url=settings["logistics_onfleet.api_base"],
        timeout=float(settings["logistics_onfleet.timeout_seconds"]),
    )
    config.register_service(dispatcher, name=DISPATCHER_SERVICE)
    config.add_hookimpls(hooks)
    config.include(tasks)
