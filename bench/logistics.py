"""Benchmark: what deliveries cost, as ratios against a baseline in the same run.

- paying a booking (``POST /bookings/{id}/payments`` and the mock gateway's confirmation, whose
  webhook confirms it) with the logistics plugins — the two tasks made in the confirming
  transaction and sent to the mock fleet after commit — against the same payment without them;
- applying one provider event (a signed ETA with the driver's position through
  ``POST /logistics/webhook``: signature, parse, lock, unique insert, task update) against
  ``GET /healthz``;
- a customer's ``GET /bookings/{id}/tracking`` (tasks and timeline) against the core's
  ``GET /bookings/{id}``.

Bounded: a fixed number of iterations each, in-process (WebTest), SQLite in a temporary folder.
Run with ``make bench``.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core_overhead import timed  # bench/ is on sys.path: the scripts run from there
from notifications import DELIVERY, GUEST, PICKUP
from webtest import TestApp

from totetaxi_core import make_app
from totetaxi_core.db import make_engine
from totetaxi_core.migrate import migrate
from totetaxi_core.platform import prepare
from totetaxi_core.testing import in_transaction

ITERATIONS = int(os.environ.get("BENCH_ITERATIONS", "100"))
BASE = "pricing payments_mock notifications mail_console"


def app_for(folder: Path, name: str, plugins: str) -> TestApp:
    settings = {
        "sqlalchemy.url": f"sqlite:///{folder / (name + '.sqlite')}",
        "totetaxi.plugins": plugins,
        "totetaxi.environment": "test",
        "totetaxi.eager_sweep": "false",
        "mail_console.folder": str(folder / f"{name}-mail"),
    }
    platform = prepare(settings, environ={})
    migrate(platform, make_engine(platform.settings))
    return TestApp(make_app(platform), extra_environ={"REMOTE_ADDR": "127.0.0.1"})


def bookings(app: TestApp, n: int) -> list[dict[str, Any]]:
    first = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=14)
    made = []
    for i in range(n):
        body = {
            "service_type": "standard_delivery",
            "item_count": 2,
            "date": (first + dt.timedelta(days=i // 3)).isoformat(),
            "pickup_address": PICKUP,
            "delivery_address": DELIVERY,
            "guest": GUEST,
        }
        made.append(app.post_json("/api/v1/bookings", body, status=201).json)
    return made


def payer(app: TestApp, unpaid: list[dict[str, Any]]) -> Callable[[int], object]:
    def pay(i: int) -> object:
        booking = unpaid[i + 10]  # 10 warm-up calls come first, with negative i
        token = f"?token={booking['tracking_token']}"
        payment = app.post_json(f"/api/v1/bookings/{booking['id']}/payments{token}", {}).json
        return app.post_json(
            f"/api/v1/payments/mock/confirm{token}",
            {"payment_id": payment["payment_id"], "card_number": "4242 4242 4242 4242"},
        )

    return pay


def main() -> int:
    folder = Path(tempfile.mkdtemp(prefix="tt-bench-logistics-"))
    plain = app_for(folder, "plain", BASE)
    fleet = app_for(folder, "fleet", f"{BASE} logistics logistics_mock")
    n = ITERATIONS + 10
    t_plain = timed(payer(plain, bookings(plain, n)), ITERATIONS)
    paid = bookings(fleet, n)
    t_fleet = timed(payer(fleet, paid), ITERATIONS)

    from sqlalchemy import select
    from totetaxi_logistics.adapters.mock import MockDispatcher
    from totetaxi_logistics.interfaces import TaskEvent
    from totetaxi_logistics.models import DeliveryTask

    registry = fleet.app.registry
    tasks = in_transaction(
        registry,
        lambda ctx: [
            (t.provider_task_id, str(t.booking_id))
            for t in ctx.dbsession.scalars(select(DeliveryTask).order_by(DeliveryTask.created_at))
        ],
    )
    start = dt.datetime.now(dt.UTC)
    bodies = in_transaction(
        registry,
        lambda ctx: [
            MockDispatcher(ctx).signed(
                [
                    TaskEvent(
                        key=f"bench:{i}",
                        kind="eta",
                        at=start + dt.timedelta(seconds=i),
                        provider_task_id=tasks[i % len(tasks)][0],
                        eta=start + dt.timedelta(minutes=30),
                        position=(40.75 + i * 1e-4, -73.98),
                        driver_id="mock-driver-1",
                    )
                ]
            )
            for i in range(ITERATIONS + 10)
        ],
    )

    def event(i: int) -> object:
        body, headers = bodies[i + 10]
        headers = {**headers, "Content-Type": "application/json"}
        return fleet.post("/api/v1/logistics/webhook", body, headers=headers)

    t_health = timed(lambda i: fleet.get("/healthz"), ITERATIONS)
    t_event = timed(event, ITERATIONS)
    one = paid[0]
    token = f"?token={one['tracking_token']}"
    t_booking = timed(lambda i: fleet.get(f"/api/v1/bookings/{one['id']}{token}"), ITERATIONS)
    t_tracking = timed(
        lambda i: fleet.get(f"/api/v1/bookings/{one['id']}/tracking{token}"), ITERATIONS
    )
    print(f"iterations: {ITERATIONS} each; {len(tasks)} delivery tasks sent to the mock fleet")
    print(
        f"paying a booking + its two delivery tasks made and sent / paying without logistics: "
        f"{t_fleet / t_plain:.2f}x ({t_fleet * 1e3:.2f} ms vs {t_plain * 1e3:.2f} ms)"
    )
    print(
        f"one signed provider event applied / GET /healthz: {t_event / t_health:.2f}x "
        f"({t_event * 1e3:.2f} ms vs {t_health * 1e3:.2f} ms)"
    )
    print(
        f"GET /bookings/{{id}}/tracking / GET /bookings/{{id}}: {t_tracking / t_booking:.2f}x "
        f"({t_tracking * 1e3:.2f} ms vs {t_booking * 1e3:.2f} ms)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
