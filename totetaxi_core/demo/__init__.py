"""``totetaxi demo``: a realistic, deterministic month of data, made through the app itself.

:class:`~totetaxi_core.demo.month.Month` replays customers, bookings, payments, documents and
deliveries on a simulated clock; :func:`build_demo_app` makes the app it runs on (the .ini's
app, with tasks run in-process so the month is replayed in order). Never in production.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from .client import AppClient, DemoStepFailed
from .month import DOMAIN, DemoRefused, DemoSummary, Month

__all__ = [
    "DOMAIN",
    "AppClient",
    "DemoRefused",
    "DemoStepFailed",
    "DemoSummary",
    "Month",
    "build_demo_app",
    "run_demo",
]


def build_demo_app(settings: dict[str, Any]) -> Any:
    """The app of ``settings`` set up for the demo, or :class:`DemoRefused` in production.

    Tasks run in-process after each commit (``eager``), whatever the .ini says, and the
    request-driven beat is off: the month runs the periodic tasks itself on its own clock, so
    a replay does not depend on how long the real run takes.
    """
    from .. import make_app
    from ..platform import prepare

    if str(settings.get("totetaxi.environment", "")).strip() == "production":
        raise DemoRefused(
            "totetaxi demo refuses to run with totetaxi.environment = production: "
            "it makes customers, bookings and payments that are not real."
        )
    settings = {**settings, "totetaxi.tasks_mode": "eager", "totetaxi.eager_sweep": "false"}
    return make_app(prepare(settings))


def run_demo(
    settings: dict[str, Any], *, days: int = 30, seed: int = 1, end: dt.datetime | None = None
) -> DemoSummary:
    """Replay ``days`` days up to ``end`` (default: now) on the app of ``settings``."""
    return Month(build_demo_app(settings), days=days, seed=seed, end=end).run()
