"""The names of the service types as people read them, from the catalog (hook
``totetaxi_service_labels``): the console, emails and any plugin show the same words."""

from __future__ import annotations

from typing import Any

__all__ = ["service_label", "service_labels"]


def service_labels(ctx: Any) -> dict[str, str]:
    """Every service type's display name from the catalog's plugin (``{}`` without one)."""
    return dict(ctx.call_hook("totetaxi_service_labels") or {})


def service_label(ctx: Any, service_type: str) -> str:
    """The display name of ``service_type`` (``"mini_move"`` -> ``"Mini Move"``).

    A type the catalog does not name reads as its code in words (``"white_glove"`` ->
    ``"White glove"``), so a page never fails for want of a label.
    """
    return service_labels(ctx).get(service_type) or service_type.replace("_", " ").capitalize()
