"""The pluggy hook system (project name ``totetaxi``).

Plugins mark implementations with :data:`hookimpl` and register them from ``includeme`` with
``config.add_hookimpls(module_or_object)``. Everything calls hooks through :class:`HookBus`
(``request.hooks`` or ``registry.hooks``): one place to trace.

A plugin may declare hooks of its own for its domain's internal events (pytest's
``pytest_addhooks``): functions marked with :data:`hookspec` in its ``hookspecs.py``, added from
``includeme`` with ``config.add_hookspecs(hookspecs)`` and named ``totetaxi_<plugin>_<event>``.
Other plugins implement them with ``@hookimpl(optionalhook=True)`` so that they still start when
the declaring plugin is not enabled.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import pluggy
from pyramid.config import Configurator

from ..errors import RegistrationError
from . import specs
from .specs import hookspec

hookimpl = pluggy.HookimplMarker("totetaxi")
log = logging.getLogger("totetaxi.hooks")

__all__ = ["HookBus", "hookimpl", "hookspec", "specs"]


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

    def add_hookspecs(self, module_or_class: Any) -> list[str]:
        """Add the hookspecs marked in ``module_or_class``; returns their names.

        Raises :class:`RegistrationError` when it marks none, a name is outside the ``totetaxi_``
        namespace, or a name is already a hook (the core's or another plugin's).
        """
        where = getattr(module_or_class, "__name__", repr(module_or_class))
        marker = f"{self.pm.project_name}_spec"
        names = [
            name
            for name in dir(module_or_class)
            if getattr(getattr(module_or_class, name, None), marker, None) is not None
        ]
        if not names:
            raise RegistrationError(
                f"{where} declares no hookspec (mark them with totetaxi_core.plugin_api.hookspec)."
            )
        unprefixed = [name for name in names if not name.startswith("totetaxi_")]
        if unprefixed:
            raise RegistrationError(
                f"{where} declares hooks outside the totetaxi_ namespace: "
                f"{', '.join(sorted(unprefixed))}; name a plugin's hooks totetaxi_<plugin>_<event>."
            )
        taken = [
            name
            for name in names
            if getattr(getattr(self.pm.hook, name, None), "spec", None) is not None
        ]
        if taken:
            raise RegistrationError(
                f"{where} declares hooks that already exist: {', '.join(sorted(taken))}; "
                "name a plugin's hooks totetaxi_<plugin>_<event>."
            )
        self.pm.add_hookspecs(module_or_class)
        return sorted(names)

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


def _add_hookspecs(config: Configurator, module_or_class: Any) -> None:
    """``config.add_hookspecs(hookspecs)``: declare a plugin's own hooks (see the module
    docstring). Implementations registered before or after are checked against them at start-up
    (an unknown argument name stops it)."""
    bus: HookBus = config.registry.hooks
    bus.add_hookspecs(config.maybe_dotted(module_or_class))


def includeme(config: Configurator) -> None:
    settings = config.get_settings()
    config.registry.hooks = HookBus(trace=bool(settings.get("totetaxi.trace_hooks")))
    config.add_directive("add_hookimpls", _add_hookimpls)
    config.add_directive("add_hookspecs", _add_hookspecs)
    config.add_request_method(lambda request: request.registry.hooks, "hooks", reify=True)
