"""Benchmark: what an email costs a booking, as ratios against a baseline in the same run.

- a guest booking (``POST /bookings``) with the notifications plugin and the console mailer,
  in eager mode (queue the email in the booking's transaction, then render, write the ``.eml``
  and log the attempt in the send task after commit), against the same booking without it;
- the same with a send task that does nothing, to show what queueing alone (the Notification and
  outbox rows in the booking's transaction) adds to the request;
- rendering one default template (``booking_received``, three parts in the sandbox, compiled
  templates cached) against rendering the same templates with a plain (unsandboxed) Jinja
  environment; and a just-edited template (compiled first) against the cached one.

Bounded: a fixed number of iterations each, in-process (WebTest), SQLite in a temporary folder.
Run with ``make bench``.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import jinja2
from core_overhead import timed  # bench/ is on sys.path: the scripts run from there
from webtest import TestApp

from totetaxi_core import make_app
from totetaxi_core.db import make_engine
from totetaxi_core.migrate import migrate
from totetaxi_core.platform import prepare

ITERATIONS = int(os.environ.get("BENCH_ITERATIONS", "200"))
PICKUP = {
    "line1": "200 E 62nd St",
    "line2": "Apt 5B",
    "city": "New York",
    "state": "NY",
    "postal_code": "10065",
}
DELIVERY = {"line1": "12 Dune Rd", "city": "Southampton", "state": "NY", "postal_code": "11968"}
GUEST = {
    "first_name": "Gale",
    "last_name": "Guest",
    "email": "gale@example.com",
    "phone": "+1 212 555 0100",
}


def app_for(folder: Path, name: str, plugins: str) -> TestApp:
    url = f"sqlite:///{folder / (name + '.sqlite')}"
    settings = {
        "sqlalchemy.url": url,
        "totetaxi.plugins": plugins,
        "totetaxi.environment": "test",
        "totetaxi.eager_sweep": "false",
        "mail_console.folder": str(folder / f"{name}-mail"),
        "totetaxi.reset_limit_per_address": "10000",
    }
    platform = prepare(settings, environ={})
    migrate(platform, make_engine(platform.settings))
    return TestApp(make_app(platform), extra_environ={"REMOTE_ADDR": "127.0.0.1"})


def booker(app: TestApp) -> Callable[[int], object]:
    first = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=14)

    def book(i: int) -> object:
        # Spread over days: a day holds a handful of vans.
        day = first + dt.timedelta(days=(i + 20) // 3)
        body = {
            "service_type": "standard_delivery",
            "item_count": 2,
            "date": day.isoformat(),
            "pickup_address": PICKUP,
            "delivery_address": DELIVERY,
            "guest": GUEST,
        }
        return app.post_json("/api/v1/bookings", body, status=201)

    return book


def main() -> int:
    folder = Path(tempfile.mkdtemp(prefix="tt-bench-mail-"))
    plain = app_for(folder, "plain", "pricing")
    mailing = app_for(folder, "mailing", "pricing mail_console")
    queueing = app_for(folder, "queueing", "pricing mail_console")
    # The send task does nothing: only the queueing (Notification + outbox rows) is measured.
    queueing.app.registry.tasks["notifications.send"] = queueing.app.registry.tasks[
        "notifications.send"
    ].__class__(name="notifications.send", func=lambda ctx, _id: None)

    t_plain = timed(booker(plain), ITERATIONS)
    t_mailing = timed(booker(mailing), ITERATIONS)
    t_queueing = timed(booker(queueing), ITERATIONS)
    written = len(list((folder / "mailing-mail").glob("*.eml")))

    from totetaxi_notifications.defaults import DEFAULTS
    from totetaxi_notifications.rendering import render

    from totetaxi_core.context import Context

    registry = mailing.app.registry
    ctx = Context(
        registry=registry, dbsession=registry["dbsession_factory"](), transaction_manager=None
    )
    from totetaxi_notifications.variables import sample

    variables = sample(ctx)
    ctx.dbsession.close()
    template = DEFAULTS[0]
    plain_env = jinja2.Environment(autoescape=True)
    sources = (template.subject, template.text_body, template.html_body)
    parsed = [plain_env.from_string(source) for source in sources]
    t_sandbox = timed(lambda i: render(*sources, variables), ITERATIONS * 5)
    t_jinja = timed(lambda i: [t.render(**variables) for t in parsed], ITERATIONS * 5)
    # A template just edited: its three parts compiled before rendering.
    t_fresh = timed(lambda i: render(*(f"{s}{{# {i} #}}" for s in sources), variables), ITERATIONS)

    print(f"iterations: {ITERATIONS} bookings each; {written} emails written by the console mailer")
    print(
        f"guest booking + email sent after commit / booking without notifications: "
        f"{t_mailing / t_plain:.2f}x ({t_mailing * 1e3:.2f} ms vs {t_plain * 1e3:.2f} ms)"
    )
    print(
        f"guest booking + email queued only / booking without notifications: "
        f"{t_queueing / t_plain:.2f}x ({t_queueing * 1e3:.2f} ms vs {t_plain * 1e3:.2f} ms)"
    )
    print(
        f"sandboxed render of booking_received (compiled once, cached) / plain Jinja render "
        f"of pre-parsed templates: {t_sandbox / t_jinja:.2f}x ({t_sandbox * 1e3:.3f} ms vs "
        f"{t_jinja * 1e3:.3f} ms)"
    )
    print(
        f"render of a just-edited template (compile + render) / cached render: "
        f"{t_fresh / t_sandbox:.2f}x ({t_fresh * 1e3:.3f} ms vs {t_sandbox * 1e3:.3f} ms)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
