"""The OpenAPI document's tags: which plugin (or which domain of the core) an operation is.

Nothing is declared for it. An operation's tag comes from the module of its view:

* under an enabled plugin's module (its entry point's target, ``totetaxi_pricing``), the plugin's
  name — the longest such module wins, so ``totetaxi_payments.adapters.mock.api`` is
  ``payments_mock`` and ``totetaxi_payments.api`` is ``payments``;
* else, in the distribution of an enabled plugin (a module beside its package), that plugin;
* in the core, its domain: ``totetaxi_core.identity.staff_self`` is ``identity``.

A view that passes ``tags=[...]`` keeps its own (a Cornice service's ``tags`` are added to it).
Each tag is described by the plugin's manifest ``summary``, or for the core by
:data:`CORE_DOMAINS` (the domain package's docstring for one not listed there).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import metadata
from typing import Any

from cornice import Service

from ..plugins.registry import Plugin

CORE_PACKAGE = "totetaxi_core"

#: What each domain of the core serves, as a frontend developer would look for it.
CORE_DOMAINS: dict[str, str] = {
    "identity": "Customer and staff accounts: register, sign in (session cookie or bearer "
    "token), profile, saved addresses, password reset.",
    "bookings": "Checkout (guest or signed in), the customer's bookings, public tracking, and "
    "staff's booking and customer lists.",
    "audit": "The audit log of staff changes, per booking and per customer.",
}


@cache
def _distribution_of_package() -> Mapping[str, list[str]]:
    # Top-level import name -> the distributions that ship it (importlib's own map).
    return metadata.packages_distributions()


def _view_module(service: Service, method: str) -> str:
    for defined, view, args in service.definitions:
        if defined == method:
            module = getattr(view, "__module__", None) or getattr(
                args.get("klass"), "__module__", ""
            )
            return module or ""
    return ""


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


class Tagger:
    """Tags the operations of one app's services by the plugin (or core domain) serving them."""

    def __init__(self, plugins: Iterable[Plugin]) -> None:
        # Longest module first, so an adapter inside its plugin's package is found first.
        self.plugins = sorted(
            (p for p in plugins if p.module is not None),
            key=lambda p: len(p.module.__name__),  # type: ignore[union-attr]
            reverse=True,
        )

    def tag_of_module(self, module: str) -> str:
        """The tag of an operation whose view is in ``module``."""
        for plugin in self.plugins:
            if _within(module, plugin.module.__name__):  # type: ignore[union-attr]
                return plugin.name
        top = module.partition(".")[0]
        if top == CORE_PACKAGE:
            domain = module.split(".")[1] if module.count(".") else "core"
            return domain
        shipped_by = set(_distribution_of_package().get(top, ()))
        # The distribution's plugins, the shortest module (its main plugin, not an adapter) first.
        for plugin in reversed(self.plugins):
            if plugin.distribution in shipped_by:
                return plugin.name
        return top or "other"

    def __call__(self, service: Service, method: str) -> list[str]:
        """cornice_swagger's ``default_tags``: the tags of ``method`` on ``service``."""
        return [self.tag_of_module(_view_module(service, method))]

    def describe(self, name: str) -> dict[str, Any]:
        """The document's tag object for ``name``."""
        for plugin in self.plugins:
            if plugin.name == name:
                tag = {"name": name, "description": plugin.manifest.summary or name}
                tag["x-distribution"] = plugin.distribution
                return tag
        if name in CORE_DOMAINS:
            return {"name": name, "description": CORE_DOMAINS[name]}
        return {"name": name, "description": _package_summary(f"{CORE_PACKAGE}.{name}") or name}


def _package_summary(package: str) -> str:
    try:
        doc = importlib.import_module(package).__doc__ or ""
    except ImportError:
        return ""
    return doc.strip().split("\n\n", 1)[0].replace("\n", " ")
