"""The catalog and the cancellation policy are served from memory: a warm quote or catalog read
sends no SQL; an admin's edit reaches the next quote of the process that made it at once and
the quotes of every other process (here: a second app on the same database) within a second."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa
from webtest import TestApp

from totetaxi_core.plugin_api import BUSINESS_TZ, find_service
from totetaxi_core.testing import STRONG_PASSWORD, make_staff

NOW = dt.datetime(2026, 11, 23, 10, tzinfo=BUSINESS_TZ).astimezone(dt.UTC)
MONDAY = "2026-11-30"
QUOTE = {"service_type": "mini_move", "package": "petite", "date": MONDAY}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def process(make_testapp: Any, clock: Clock) -> TestApp:
    """An app as a separate process has it: its own snapshots, on their own (test) clock."""
    app = make_testapp(**{"totetaxi.plugins": "pricing"})
    app.app.registry.clock = lambda: NOW
    for name in ("pricing.catalog", "bookings.cancellation_policy"):
        find_service(app.app.registry, name).clock = clock
    return app


@contextmanager
def statements(app: TestApp) -> Iterator[list[str]]:
    seen: list[str] = []
    engine = app.app.registry["dbengine"]

    def record(_conn, _cursor, statement, *_args) -> None:
        seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def sign_in_admin(app: TestApp) -> None:
    admin = make_staff(app.app.registry, "admin")
    form = app.get("/console/login").forms[0]
    form["email"], form["password"] = admin.email, STRONG_PASSWORD
    form.submit(status=303)


def quote(app: TestApp) -> dict[str, Any]:
    # An anonymous client of the app (the editor's own cookie jar is a signed-in admin's).
    return TestApp(app.app).post_json("/api/v1/quotes", QUOTE).json


def petite_price(app: TestApp) -> int:
    return quote(app)["total_cents"]


def refund_tiers(app: TestApp) -> list[dict[str, Any]]:
    return quote(app)["cancellation_policy"]["tiers"]


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_a_warm_quote_and_catalog_read_send_no_sql(make_testapp, clock):
    app = process(make_testapp, clock)
    petite_price(app)
    app.get("/api/v1/services")
    with statements(app) as seen:
        for _ in range(3):
            petite_price(app)
            app.get("/api/v1/services")
    assert seen == []
    clock.now += 1.0  # the once-a-second re-check: one version read, no reload
    with statements(app) as seen:
        petite_price(app)
    assert len(seen) == 2  # the catalog version and the policy's tiers
    assert "catalog_version" in seen[0]


def test_a_price_edit_reaches_this_process_at_once_and_others_within_a_second(make_testapp, clock):
    editor, other = process(make_testapp, clock), process(make_testapp, clock)
    assert petite_price(editor) == petite_price(other) == 99500
    sign_in_admin(editor)
    form = editor.get("/console/pricing/catalog").forms["package-petite"]
    form["price"] = "1,050.00"
    form.submit(status=303)

    assert petite_price(editor) == 105000  # the next quote of the editing process
    assert petite_price(other) == 99500  # the other still serves what it holds...
    clock.now += 0.5
    assert petite_price(other) == 99500
    clock.now += 0.5
    assert petite_price(other) == 105000  # ...for at most a second
    assert other.get("/api/v1/services").json["mini_move_packages"][0]["price_cents"] == 105000


def test_a_cancellation_policy_edit_reaches_quotes_the_same_way(make_testapp, clock):
    editor, other = process(make_testapp, clock), process(make_testapp, clock)
    before = refund_tiers(other)
    sign_in_admin(editor)
    form = editor.get("/console/cancellation-policy").forms["policy-form"]
    form["hours_0"], form["percent_0"] = "72", "100"
    form["hours_1"], form["percent_1"] = "24", "50"
    form.submit(status=303)

    wanted = [(72, 100), (24, 50)]
    shown = [(t["hours_before"], t["refund_percent"]) for t in refund_tiers(editor)]
    assert shown == wanted
    assert refund_tiers(other) == before
    clock.now += 1.0
    assert [(t["hours_before"], t["refund_percent"]) for t in refund_tiers(other)] == wanted
