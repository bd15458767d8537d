"""A NUL byte or broken UTF-8 in the path or the query string is a 400 before any view."""

from __future__ import annotations

import pytest

from totetaxi_core.testing import bearer, make_staff


@pytest.mark.both_databases  # PostgreSQL refuses NUL in text: this was its 500
@pytest.mark.parametrize(
    ("path", "location", "name"),
    [
        ("/api/v1/track/TT-000001%00?token=x", "path", "path"),
        ("/api/v1/track/TT-000001?token=a%00b", "querystring", "token"),
        ("/api/v1/staff/bookings?q=a%00b", "querystring", "q"),
        ("/api/v1/staff/customers?q=a%00b", "querystring", "q"),
        ("/api/v1/staff/bookings?q=%ff", "querystring", "querystring"),
    ],
)
def test_the_api_answers_400_in_its_error_shape(testapp, path, location, name):
    staff = make_staff(testapp.app.registry, "staff")
    headers = bearer(testapp, staff.email, staff=True)
    answer = testapp.get(path, headers=headers, status=400).json
    [error] = answer["errors"]
    assert (error["location"], error["name"]) == (location, name)


@pytest.mark.both_databases
@pytest.mark.parametrize("path", ["/console/bookings?q=a%00b", "/console/customers?q=a%00b"])
def test_the_console_answers_400(testapp, path):
    assert "NUL" in testapp.get(path, status=400).text


def test_ordinary_requests_pass(testapp):
    testapp.get("/api/v1/track/TT-000001?token=x", status=404)
    testapp.get("/healthz", status=200)


@pytest.mark.parametrize("number", ["TT-1", "tt-000001", "TT-000001x", "x" * 300, "TT-0000001%20"])
def test_a_text_that_cannot_be_a_booking_number_is_not_looked_up(testapp, number):
    from sqlalchemy import event

    statements: list[str] = []
    engine = testapp.app.registry["dbsession_factory"].kw["bind"]

    def seen(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        testapp.get(f"/api/v1/track/{number}?token=x", status=404)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert not [s for s in statements if "FROM bookings" in s]
