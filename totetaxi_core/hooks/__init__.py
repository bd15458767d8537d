"""The pluggy hook system (project name ``totetaxi``).

Plugins mark implementations with :data:`hookimpl` and register them from ``includeme`` with
``config.add_hookimpls(module_or_object)``. Everything calls hooks through :class:`HookBus`
(``request.hooks`` or ``registry.hooks``): one place to trace.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import pluggy
from pyramid.config import Configurator

from . import specs

hookimpl = pluggy.HookimplMarker("totetaxi")
log = logging.getLogger("totetaxi.hooks")

__all__ = ["HookBus", "hookimpl", "specs"]


class HookBus:
    """The one way the platform calls hooks.

    ``call`` returns what pluggy returns: the first non-``None`` answer for a capability hook,
    the list of answers for the others. With ``totetaxi.trace_hooks = true`` every call is logged
    with its implementations and duration.
    """

    def __init__(self, trace: bool = False) -> None:
        self.pm = pluggy.PluginManager("totetaxi")
        self.pm.add_hookspecs(specs)
        self.trace = trace

    def register(self, obj: Any, name: str) -> None:
        """Register hook implementations under ``name`` (used by ``config.add_hookimpls``)."""
        self.pm.register(obj, name=name)

    def call(self, name: str, **kwargs: Any) -> Any:
        """Call hook ``name`` with keyword arguments."""
        caller = getattr(self.pm.hook, name)
        if not self.trace:
            return caller(**kwargs)
        impls = [impl.plugin_name for impl in caller.get_hookimpls()]
        started = time.perf_counter()
        try:
            return caller(**kwargs)
        finally:
            log.info(
                "hook %s impls=%s ms=%.2f", name, impls, (time.perf_counter() - started) * 1000
            )

    def implementers(self, name: str) -> list[str]:
        """Names of the registered implementations of hook ``name``."""
        return [impl.plugin_name for impl in getattr(self.pm.hook, name).get_hookimpls()]

    def check(self) -> None:
        """Refuse implementations of hooks that do not exist (a typo would never be called)."""
        self.pm.check_pending()


def _add_hookimpls(config: Configurator, obj: Any, name: str | None = None) -> None:
    bus: HookBus = config.registry.hooks
    plugin_name = name or getattr(obj, "__name__", None) or repr(obj)
    bus.register(obj, plugin_name)


def includeme(config: Configurator) -> None:
    settings = config.get_settings()
    config.registry.hooks = HookBus(trace=bool(settings.get("totetaxi.trace_hooks")))
    config.add_directive("add_hookimpls", _add_hookimpls)
    config.add_request_method(lambda request: request.registry.hooks, "hooks", reify=True)
