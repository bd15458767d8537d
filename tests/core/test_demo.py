"""`totetaxi demo`: a deterministic month made through the app, never in production."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from totetaxi_core.business_time import BUSINESS_TZ
from totetaxi_core.demo import DemoRefused, DemoSummary, build_demo_app, run_demo
from totetaxi_core.testing import base_settings


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOTETAXI_")}
    return subprocess.run(
        [sys.executable, "-m", "totetaxi_core.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


#: The development plugin list (mock partners), as `make run` serves it.
PLUGINS = (
    "pricing payments_mock notifications mail_console logistics logistics_mock documents "
    "storage_local crm"
)
#: A fixed end, so the month is the same whoever runs the test and whenever.
END = dt.datetime(2026, 3, 12, 19, 0, tzinfo=BUSINESS_TZ)


def settings(url: str, tmp_path: Path, **overrides: Any) -> dict[str, Any]:
    return base_settings(
        url,
        **{
            "totetaxi.plugins": PLUGINS,
            "mail_console.folder": str(tmp_path / "mail"),
            "storage_local.folder": str(tmp_path / "documents"),
            **overrides,
        },
    )


def rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(sql))]
    finally:
        engine.dispose()


BOOKINGS = (
    "SELECT number, status, pickup_date, total_cents, service_type FROM bookings ORDER BY number"
)


@pytest.fixture
def second_url(backend: Any) -> Iterator[str]:
    url = backend.new_url()
    yield url
    backend.drop(url)


def test_the_same_seed_makes_the_same_days(db_url: str, second_url: str, tmp_path: Path) -> None:
    first = run_demo(settings(db_url, tmp_path / "a"), days=2, seed=3, end=END)
    again = run_demo(settings(second_url, tmp_path / "b"), days=2, seed=3, end=END)

    assert isinstance(first, DemoSummary)
    assert len(rows(db_url, BOOKINGS)) >= 3
    assert rows(db_url, BOOKINGS) == rows(second_url, BOOKINGS)
    tasks = (
        "SELECT kind, status, attempt, driver_id IS NULL FROM logistics_tasks ORDER BY 1, 2, 3, 4"
    )
    assert rows(db_url, tasks) == rows(second_url, tasks)
    assert first.counts == again.counts
    assert first.customer_password != again.customer_password  # never a default password


def test_a_month_through_every_plugin_at_its_own_times(db_url: str, tmp_path: Path) -> None:
    summary = run_demo(settings(db_url, tmp_path), days=6, seed=7, end=END)

    # A month, not a moment: rows carry the simulated times, spread over the days, and nothing
    # is dated after the end.
    created = rows(db_url, "SELECT created_at FROM bookings")
    days = {
        dt.datetime.fromisoformat(str(at)).replace(tzinfo=dt.UTC).astimezone(BUSINESS_TZ).date()
        for (at,) in created
    }
    assert len(days) >= 5
    assert max(days) <= END.date() and min(days) >= END.date() - dt.timedelta(days=5)
    audit = rows(db_url, "SELECT MIN(at), MAX(at) FROM audit_records")[0]
    assert "2026-03-06" <= str(audit[0]) and str(audit[1]) < "2026-03-13"

    statuses = {status for (_, status, *_) in rows(db_url, BOOKINGS)}
    assert {"completed", "confirmed", "cancelled", "pending_payment"} <= statuses
    services = {service for (*_, service) in rows(db_url, BOOKINGS)}
    assert services == {"mini_move", "standard_delivery", "specialty"}
    tasks = {status for (status,) in rows(db_url, "SELECT status FROM logistics_tasks")}
    assert {"created", "completed", "failed", "cancelled"} <= tasks
    # Some cards were declined before one went through (attempts counts the declines).
    assert rows(db_url, "SELECT COUNT(*) FROM payments_payments WHERE attempts > 0")[0][0]
    assert rows(db_url, "SELECT COUNT(*) FROM payments_refunds WHERE status = 'succeeded'")[0][0]
    sent = rows(db_url, "SELECT COUNT(*) FROM notifications_notifications WHERE status = 'sent'")
    assert sent[0][0] >= 30
    coi = "SELECT COUNT(*) FROM documents WHERE category = 'coi' AND sha256 != ''"
    assert rows(db_url, coi)[0][0]
    assert summary.counts["refunds approved"] and summary.counts["customers registered"]


def test_a_second_run_on_the_same_database_is_refused(db_url: str, tmp_path: Path) -> None:
    run_demo(settings(db_url, tmp_path), days=1, seed=1, end=END)
    before = rows(db_url, "SELECT COUNT(*) FROM bookings")

    with pytest.raises(DemoRefused, match="already holds demo data"):
        run_demo(settings(db_url, tmp_path), days=1, seed=2, end=END)
    assert rows(db_url, "SELECT COUNT(*) FROM bookings") == before


def test_production_is_refused_before_anything_is_built(tmp_path: Path) -> None:
    with pytest.raises(DemoRefused, match="production"):
        build_demo_app({"totetaxi.environment": "production", "sqlalchemy.url": "sqlite://"})

    ini = tmp_path / "prod.ini"
    ini.write_text(
        "[app:main]\nuse = egg:totetaxi-core\ntotetaxi.environment = production\n"
        f"sqlalchemy.url = sqlite:///{tmp_path / 'prod.sqlite'}\ntotetaxi.plugins = example\n"
    )
    done = run("demo", str(ini))
    assert done.returncode == 1
    assert "refuses to run with totetaxi.environment = production" in done.stderr
    assert not (tmp_path / "prod.sqlite").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--days", "0"], "--days must be between 1 and 366."), (["--end", "May"], "--end must be")],
)
def test_bad_options_are_named(tmp_path: Path, args: list[str], message: str) -> None:
    done = run("demo", str(tmp_path / "missing.ini"), *args)
    assert done.returncode == 2
    assert message in done.stderr
