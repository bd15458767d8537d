"""Assembling the platform from settings: validated settings plus the ordered enabled plugins.

Both the WSGI app factory and the CLI (``totetaxi migrate``, ``plugins list``, ``worker``) start
here, so they always agree on which plugins are enabled.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import metadata
from typing import Any
from urllib.parse import urlsplit

from .errors import SettingsError
from .identity.passwords import use_profile as use_password_profile
from .plugins import Plugin, PluginSet, discover
from .settings import (
    CORE_SETTINGS,
    Setting,
    apply_environment,
    check_password_profile,
    check_secret,
    undeclared_keys,
    validate,
)
from .version import __version__


@dataclass
class Platform:
    """Validated settings, every discovered plugin, and the enabled ones in dependency order."""

    settings: dict[str, Any]
    discovered: PluginSet
    enabled: list[Plugin]

    @property
    def enabled_names(self) -> list[str]:
        return [p.name for p in self.enabled]

    @property
    def config_file(self) -> str:
        return self.settings.get("totetaxi.config_file") or "development.ini"


def disabled_from_environment(environ: Mapping[str, str]) -> list[str]:
    """Plugin names listed in ``TOTETAXI_PLUGINS_DISABLED`` (comma or space separated)."""
    raw = environ.get("TOTETAXI_PLUGINS_DISABLED", "")
    return [name for name in raw.replace(",", " ").split() if name]


def allowed_hosts(settings: Mapping[str, Any]) -> list[str]:
    """``totetaxi.allowed_hosts`` in lower case; in production, when empty, the host of
    ``totetaxi.public_url`` (a production app must never answer for any ``Host``)."""
    hosts = [host.lower() for host in settings["totetaxi.allowed_hosts"]]
    if hosts or settings["totetaxi.environment"] != "production":
        return hosts
    host = urlsplit(settings["totetaxi.public_url"]).hostname
    if not host:
        raise SettingsError(
            "Setting 'totetaxi.allowed_hosts' is required in production when "
            "totetaxi.public_url names no host (list the host names the app is served under)."
        )
    return [f"[{host}]" if ":" in host else host]  # an IPv6 address, as a Host header writes it


def prepare(
    settings: Mapping[str, Any],
    *,
    environ: Mapping[str, str] | None = None,
    entry_points: Iterable[metadata.EntryPoint] | None = None,
) -> Platform:
    """Validate ``settings`` and resolve the plugins, or raise a :class:`StartupError`."""
    environ = os.environ if environ is None else environ
    settings = dict(settings)
    apply_environment(settings, CORE_SETTINGS, environ)
    problems = validate(settings, CORE_SETTINGS)
    if problems:
        raise SettingsError(problems)
    check_secret(settings)
    check_password_profile(settings)
    # Process-wide, like the hasher itself: the CLI (staff create) and the app both come here.
    use_password_profile(settings["totetaxi.password_hash_profile"])
    if settings["totetaxi.tasks_mode"] == "broker" and not settings["totetaxi.broker_url"]:
        raise SettingsError(
            "Setting 'totetaxi.broker_url' is required when totetaxi.tasks_mode = broker "
            "(set TOTETAXI_BROKER_URL, e.g. redis://127.0.0.1:6379/0)."
        )

    if settings["totetaxi.state_backend"] == "redis" and not settings["totetaxi.redis_url"]:
        raise SettingsError(
            "Setting 'totetaxi.redis_url' is required when totetaxi.state_backend = redis "
            "(set TOTETAXI_REDIS_URL, e.g. redis://127.0.0.1:6379/1)."
        )
    if (
        settings["totetaxi.live_backend"] == "redis"
        and not settings["totetaxi.live_redis_url"]
        and not settings["totetaxi.redis_url"]
    ):
        raise SettingsError(
            "Setting 'totetaxi.live_redis_url' (or 'totetaxi.redis_url') is required when "
            "totetaxi.live_backend = redis (set TOTETAXI_REDIS_URL, e.g. redis://127.0.0.1:6379/2)."
        )
    if settings["totetaxi.cookie_secure"] is None:
        settings["totetaxi.cookie_secure"] = settings["totetaxi.environment"] == "production"
    settings["totetaxi.allowed_hosts"] = allowed_hosts(settings)

    discovered = discover(entry_points)
    enabled = discovered.resolve(
        settings["totetaxi.plugins"],
        disabled=disabled_from_environment(environ),
        environment=settings["totetaxi.environment"],
        core_version=__version__,
    )

    declared: list[Setting] = []
    for plugin in enabled:
        for setting in plugin.manifest.settings:
            if not setting.key.startswith(plugin.name + "."):
                problems.append(
                    f"Plugin '{plugin.name}' declares setting '{setting.key}' outside its prefix "
                    f"'{plugin.name}.'."
                )
            declared.append(setting)
    apply_environment(settings, declared, environ)
    problems.extend(validate(settings, declared))
    problems.extend(undeclared_keys(settings, [p.name for p in enabled], declared))
    if problems:
        raise SettingsError(problems)
    settings["totetaxi.enabled_plugins"] = [p.name for p in enabled]
    return Platform(settings=settings, discovered=discovered, enabled=enabled)
