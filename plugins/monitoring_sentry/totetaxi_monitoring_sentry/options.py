"""The plugin's settings, checked, and the options of ``sentry_sdk.init`` made from them."""

from __future__ import annotations

import math
from collections.abc import Mapping
from importlib import metadata
from typing import Any

from sentry_sdk.utils import BadDsn, Dsn
from totetaxi_core.plugin_api import RegistrationError

#: The environment variable Sentry's own tools read, accepted when ``monitoring_sentry.dsn`` is
#: empty (``TOTETAXI_MONITORING_SENTRY__DSN`` sets the key itself).
SENTRY_DSN = "SENTRY_DSN"
DSN_SHAPE = "a Sentry DSN, https://PUBLIC_KEY@HOST/PROJECT_ID"


def check_dsn(value: str) -> str | None:
    """The sentence after the key when ``value`` is no DSN (the value is never quoted back: it
    holds the project's key)."""
    if not value:
        return None
    try:
        Dsn(value)
    except BadDsn as exc:
        return f"must be {DSN_SHAPE} ({exc})"
    return None


def check_sample_rate(value: str) -> str | None:
    """The sentence after the key when ``value`` is not a number from 0 to 1."""
    try:
        rate = float(value)
    except ValueError:
        rate = math.nan
    if not math.isfinite(rate) or not 0 <= rate <= 1:
        return (
            "must be a number from 0 to 1 (the share of requests and tasks traced: 0.05 is one "
            f"in twenty), got {value!r}"
        )
    return None


def release() -> str:
    """``totetaxi@<version of totetaxi-core>``: the release every event is tagged with."""
    try:
        version = metadata.version("totetaxi-core")
    except metadata.PackageNotFoundError:  # a checkout never installed
        version = "unknown"
    return f"totetaxi@{version}"


def resolve_dsn(settings: Mapping[str, Any], environ: Mapping[str, str]) -> str:
    """``monitoring_sentry.dsn`` (or its ``TOTETAXI_...`` variable), else ``SENTRY_DSN``, else
    ``""``; raises :class:`RegistrationError` for a ``SENTRY_DSN`` that is no DSN."""
    dsn = settings.get("monitoring_sentry.dsn") or ""
    if dsn:
        return dsn
    dsn = environ.get(SENTRY_DSN, "").strip()
    problem = check_dsn(dsn)
    if problem:
        raise RegistrationError(f"Environment variable {SENTRY_DSN} {problem}.")
    return dsn


def client_options(settings: Mapping[str, Any], dsn: str) -> dict[str, Any]:
    """The keyword arguments of ``sentry_sdk.init`` (without the callbacks and integrations)."""
    return {
        "dsn": dsn,
        "release": release(),
        "environment": settings["monitoring_sentry.environment"]
        or settings["totetaxi.environment"],
        "traces_sample_rate": float(settings["monitoring_sentry.traces_sample_rate"]),
        # send_default_pii stays at the SDK's default, off: no IP addresses, cookies, user ids,
        # task arguments or header values the SDK deems personal. (Passing False says the same
        # and draws a DeprecationWarning from sentry-sdk 2.7x, which prefers data_collection;
        # data_collection would switch the SDK's own scrubber off.) A test holds it off.
        "include_local_variables": settings["monitoring_sentry.include_local_variables"],
    }
