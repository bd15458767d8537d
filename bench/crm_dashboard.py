"""The CRM dashboard at scale (issue 17): ``GET /api/v1/staff/dashboard`` at 200,000 bookings
and 20,000 customers on PostgreSQL, in-process (WebOb requests straight into the WSGI app, one
at a time), against a bare Pyramid JSON view measured the same way.

Creates a database on ``BENCH_PG_URL`` (``postgresql://postgres@127.0.0.1:5432``), migrates it
with the plugins that publish figures (payments, notifications, logistics, documents), bulk-loads
:mod:`scale_seed`'s data set by ``COPY``, signs a member of staff in and sends each period
``BENCH_CRM_REQUESTS`` (200) times after 5 unmeasured ones. Prints p50/p99 (target: p99 of
``?period=month`` under 300 ms), the statements one month's answer sends with their times, and
``EXPLAIN (ANALYZE, BUFFERS)`` of the slowest; writes ``var/bench/crm_dashboard.json``; drops the
database. ``--bookings``/``--customers`` shrink the data set for a quick look; ``--keep`` leaves
the database, ``--reuse URL`` measures one kept that way.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import psycopg2

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import scale_seed  # noqa: E402 - a sibling script, not a package

SERVER = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432")
REQUESTS = int(os.environ.get("BENCH_CRM_REQUESTS", "200"))
WARMUP = 5
TARGET_P99_MS = 300.0
PLUGINS = (
    "pricing payments_mock notifications mail_console logistics logistics_mock documents "
    "storage_local crm"
)
STAFF_EMAIL = f"crm.bench.{os.getpid()}@totetaxi.example"
PATH = "/api/v1/staff/dashboard"


def _app(url: str) -> Any:
    from totetaxi_core import make_app
    from totetaxi_core.platform import prepare

    settings = scale_seed.settings_for(
        url, PLUGINS, **{"mail_console.folder": str(ROOT / "var" / "bench" / "crm_mail")}
    )
    return make_app(prepare(settings, environ={}))


def _bare() -> Any:
    from pyramid.config import Configurator

    def view(request: Any) -> dict[str, Any]:
        return {"ok": True, "bookings": {"count": 0}}

    with Configurator() as config:
        config.add_route("bare", "/bare")
        config.add_view(view, route_name="bare", renderer="json")
        return config.make_wsgi_app()


def _staff(app: Any, password: str) -> str:
    from webob import Request

    from totetaxi_core.context import Context
    from totetaxi_core.db import unit_of_work
    from totetaxi_core.identity.services import create_staff

    with unit_of_work(app.registry["dbsession_factory"]) as (dbsession, tm):
        ctx = Context(registry=app.registry, dbsession=dbsession, transaction_manager=tm)
        create_staff(ctx, email=STAFF_EMAIL, password=password, role="viewer")
    request = Request.blank("/api/v1/staff/auth/token", method="POST")
    request.json_body = {"email": STAFF_EMAIL, "password": password}
    request.content_type = "application/json"
    response = request.get_response(app)
    if response.status_code != 200:
        raise SystemExit(f"sign-in answered {response.status}: {response.text[:500]}")
    return response.json["token"]


def _measure(app: Any, path: str, headers: dict[str, str], count: int) -> dict[str, float]:
    from webob import Request

    times = []
    for i in range(WARMUP + count):
        request = Request.blank(path, headers=headers)
        started = time.perf_counter()
        response = request.get_response(app)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise SystemExit(f"{path} answered {response.status}: {response.text[:500]}")
        if i >= WARMUP:
            times.append(elapsed)
    times.sort()
    return {
        "p50_ms": round(statistics.median(times), 2),
        "p99_ms": round(times[max(0, int(len(times) * 0.99) - 1)], 2),
    }


def _statements(app: Any, url: str, token: str) -> tuple[list[dict[str, Any]], str]:
    """The statements of one month's answer with their times, and the slowest one's plan."""
    from sqlalchemy import event
    from webob import Request

    engine = app.registry["dbengine"]
    seen: list[dict[str, Any]] = []

    def before(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        conn.info["crm_started"] = time.perf_counter()

    def after(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        ms = (time.perf_counter() - conn.info.pop("crm_started")) * 1000
        seen.append({"sql": statement, "parameters": parameters, "ms": round(ms, 2)})

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        Request.blank(
            f"{PATH}?period=month", headers={"Authorization": f"Bearer {token}"}
        ).get_response(app)
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
    selects = [s for s in seen if s["sql"].lstrip().upper().startswith("SELECT")]
    slowest = max(selects, key=lambda s: s["ms"])
    conn = psycopg2.connect(scale_seed.libpq_dsn(url))
    try:
        with conn.cursor() as cur:
            cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + slowest["sql"], slowest["parameters"])
            plan = "\n".join(row[0] for row in cur.fetchall())
    finally:
        conn.close()
    return seen, f"{slowest['sql']}\n\n{plan}"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", action="store_true", help="leave the database")
    parser.add_argument("--reuse", metavar="URL", help="measure a database kept with --keep")
    parser.add_argument("--bookings", type=int, default=200_000)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=REQUESTS)
    args = parser.parse_args(argv[1:])

    url = args.reuse or f"{SERVER.rstrip('/')}/tt_crm_{os.getpid()}"
    if not args.reuse:
        scale_seed.create_database(url)
    app = None
    try:
        scale_seed.migrate_database(url, PLUGINS)
        if args.reuse:
            password = scale_seed.PASSWORD
            seeded = None
        else:
            seeded = scale_seed.seed(url, bookings=args.bookings, customers=args.customers)
            password = seeded.password
            print(
                f"seeded {seeded.bookings:,} bookings, {seeded.customers:,} customers "
                f"in {seeded.seconds:.0f} s"
            )
        app = _app(url)
        token = _staff(app, password)
        headers = {"Authorization": f"Bearer {token}"}
        rows = []
        bare = _bare()
        rows.append({"request": "bare Pyramid view", **_measure(bare, "/bare", {}, args.requests)})
        for period in ("day", "week", "month"):
            figures = _measure(app, f"{PATH}?period={period}", headers, args.requests)
            rows.append({"request": f"dashboard ?period={period}", **figures})
        statements, plan = _statements(app, url, token)
    finally:
        if app is not None:
            app.registry["dbengine"].dispose()
        if not (args.keep or args.reuse):
            scale_seed.drop_database(url)

    load = os.getloadavg()[0]
    print(
        f"{seeded.bookings if seeded else '?'} bookings; PostgreSQL; in-process, one at a time, "
        f"{args.requests} requests per row after {WARMUP} unmeasured; load average {load:.1f}"
    )
    print(f"{'request':32} {'p50 ms':>8} {'p99 ms':>8}")
    for row in rows:
        print(f"{row['request']:32} {row['p50_ms']:8.2f} {row['p99_ms']:8.2f}")
    month = rows[-1]["p99_ms"]
    verdict = "met" if month < TARGET_P99_MS else "MISSED"
    print(f"target p99 < {TARGET_P99_MS:.0f} ms for ?period=month: {verdict}")
    print(f"\n{len(statements)} statements in one month's answer (ms):")
    for s in statements:
        print(f"  {s['ms']:8.2f}  {' '.join(s['sql'].split())[:110]}")
    print("\nEXPLAIN (ANALYZE, BUFFERS) of the slowest:\n" + plan)
    out = ROOT / "var" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "crm_dashboard.json").write_text(
        json.dumps(
            {
                "rows": rows,
                "seeded": dataclasses.asdict(seeded) if seeded else None,
                "statements": [{"sql": s["sql"], "ms": s["ms"]} for s in statements],
                "plan": plan,
            },
            indent=2,
            default=str,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
