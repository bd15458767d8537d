"""The audit log (API and console page) and the booking and customer timelines (issue 17 item 5).

Records are written straight into the table at chosen moments (the log is append-only, so an
insert is all a test needs) under an action prefix of their own, so other records never match.
"""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from support.bookings import (
    NEW_YORK,
    book,
    client,
    customer,
    customer_body,
    guest_body,
    staff_headers,
)
from support.bookings import app as app  # the fixture: pricing, a fixed clock
from support.console import staff_browser, text_of

from totetaxi_core.audit.models import AuditRecord
from totetaxi_core.hooks import hookimpl
from totetaxi_core.testing import in_transaction, make_staff

LOG = "/api/v1/staff/audit-log"


def at_ny(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=NEW_YORK).astimezone(dt.UTC)


def add(app, at, action, *, actor=None, target_type="thing", target_id="1", after=None):
    def work(ctx):
        row = AuditRecord(
            at=at,
            actor_kind="staff" if actor is not None else "system",
            actor_id=actor.id if actor is not None else None,
            actor_email=actor.email if actor is not None else "",
            action=action,
            target_type=target_type,
            target_id=target_id,
            changes={"before": {}, "after": after or {}},
        )
        ctx.dbsession.add(row)
        ctx.dbsession.flush()
        return str(row.id)

    return in_transaction(app.app.registry, work)


def fetch(app, headers, status=200, **query):
    return client(app).get(LOG, params=query, headers=headers, status=status).json


def prefix() -> str:
    return f"t{uuid.uuid4().hex[:8]}"


# --- filters ------------------------------------------------------------------------------------


@pytest.mark.both_databases
def test_from_and_to_are_new_york_days(app):
    headers = staff_headers(app, "viewer")
    p = prefix()
    # 2026-03-09 23:30 and 2026-03-10 00:30 in New York: 03:30 and 04:30 UTC on the 10th.
    late = add(app, at_ny(2026, 3, 9, 23, 30), f"{p}.late")
    early = add(app, at_ny(2026, 3, 10, 0, 30), f"{p}.early")
    assert at_ny(2026, 3, 9, 23, 30).date() == dt.date(2026, 3, 10)  # the UTC day differs

    def ids(**query):
        return [r["id"] for r in fetch(app, headers, action=f"{p}.", **query)["items"]]

    assert ids(**{"from": "2026-03-10", "to": "2026-03-10"}) == [early]
    assert ids(**{"to": "2026-03-09"}) == [late]
    assert ids(**{"from": "2026-03-09"}) == [early, late]
    assert ids(**{"from": "2026-03-11"}) == []


@pytest.mark.both_databases
def test_actor_action_and_target_filters(app):
    headers = staff_headers(app, "viewer")
    alice = make_staff(app.app.registry, "staff")
    p = prefix()
    now = dt.datetime.now(dt.UTC)
    a = add(app, now, f"{p}.refund_requested", actor=alice, target_type="refund", target_id="r1")
    b = add(app, now + dt.timedelta(seconds=1), f"{p}.refund_approved", target_id="r2")
    c = add(app, now + dt.timedelta(seconds=2), f"{p}x_other")  # no prefix match with "_"
    d = add(app, now + dt.timedelta(seconds=3), p)

    def ids(**query):
        return {r["id"] for r in fetch(app, headers, **query)["items"]}

    assert ids(action=f"{p}.") == {a, b}
    assert ids(action=p) == {d}  # exact without the trailing dot
    assert ids(action=f"{p}.refund_requested") == {a}
    assert ids(actor=str(alice.id)) == {a}
    assert ids(actor=alice.email.upper()) == {a}
    assert ids(action=f"{p}.", target_type="refund") == {a}
    assert ids(action=f"{p}.", target_id="r2") == {b}
    assert c not in ids(action=f"{p}.")
    record = fetch(app, headers, actor=str(alice.id))["items"][0]
    assert record["actor"] == {
        "kind": "staff",
        "id": str(alice.id),
        "email": alice.email,
        "name": "Staff Tester",
    }
    assert record["target"] == {"type": "refund", "id": "r1"}
    assert record["before"] == {} and record["after"] == {}
    assert record["action"] == f"{p}.refund_requested"


@pytest.mark.both_databases
def test_keyset_pages_newest_first(app):
    headers = staff_headers(app, "viewer")
    p = prefix()
    base = dt.datetime(2026, 1, 5, 12, tzinfo=dt.UTC)
    made = [add(app, base + dt.timedelta(minutes=i), f"{p}.n") for i in range(5)]
    seen, cursor = [], None
    for _ in range(3):
        query = {"action": f"{p}.", "limit": "2", **({"cursor": cursor} if cursor else {})}
        answer = fetch(app, headers, **query)
        seen += [r["id"] for r in answer["items"]]
        cursor = answer["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(made))
    assert cursor is None


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "2026-13-01"}, "from"),
        ({"to": "yesterday"}, "to"),
        ({"from": "2026-03-02", "to": "2026-03-01"}, "to"),
        ({"cursor": "nonsense"}, "cursor"),
        ({"limit": "0"}, "limit"),
    ],
)
def test_bad_filters_are_400_naming_the_parameter(app, query, field):
    answer = fetch(app, staff_headers(app, "viewer"), status=400, **query)
    assert field in str(answer)


def test_the_console_page_filters_and_pages(app):
    browser = staff_browser(app, "viewer")
    p = prefix()
    base = dt.datetime(2026, 2, 1, 12, tzinfo=dt.UTC)
    for i in range(3):
        add(app, base + dt.timedelta(minutes=i), f"{p}.step", after={"n": i})
    page = browser.get("/console/audit", params={"action": f"{p}.", "limit": "2"})
    assert page.status_int == 200
    assert page.text.count(f'data-action="{p}.step"') == 2
    assert 'aria-current="page">Audit log<' in page.text
    assert "n: 2" in page.text and "n: 0" not in page.text
    next_link = page.html.find("a", attrs={"data-testid": "next-page"})["href"]
    more = browser.get(next_link)
    assert more.text.count(f'data-action="{p}.step"') == 1 and "n: 0" in more.text
    assert more.html.find("a", attrs={"data-testid": "first-page"}) is not None
    refused = browser.get("/console/audit", params={"from": "2026-02-30"}, status=400)
    assert 'data-testid="error-from"' in refused.text


# --- timelines ----------------------------------------------------------------------------------


class TimelinePlugin:
    """A plugin contributing entries: the oldest, the newest (as ISO text) and a malformed one."""

    def __init__(self):
        self.calls = []

    @hookimpl
    def totetaxi_timeline(self, request, booking, customer):
        self.calls.append((booking, customer))
        return [
            {
                "at": dt.datetime(2000, 1, 1, tzinfo=dt.UTC),
                "kind": "payment",
                "title": "Paid $995",
                "detail": "card 4242",
                "source": "fakepay",
            },
            {"at": "2100-01-01T00:00:00+00:00", "kind": "email", "title": "Email sent"},
            {"kind": "broken", "title": "no moment"},
            "not a mapping",
        ]


def test_booking_timeline_merges_audit_status_and_plugins(app):
    plugin = TimelinePlugin()
    app.app.registry.hooks.register(plugin, "fake-timeline")
    booking = book(app, guest_body())
    headers = staff_headers(app, "staff")
    client(app).post_json(
        f"/api/v1/staff/bookings/{booking['id']}/status",
        {"status": "confirmed", "reason": "phoned in"},
        headers=headers,
    )
    items = client(app).get(f"/api/v1/staff/bookings/{booking['id']}/timeline", headers=headers)
    items = items.json["items"]
    assert items[0]["title"] == "Email sent"
    assert items[-1] == {
        "at": "2000-01-01T00:00:00+00:00",
        "kind": "payment",
        "title": "Paid $995",
        "detail": "card 4242",
        "source": "fakepay",
    }
    assert items[0]["source"] == "plugin" and items[0]["detail"] == ""
    kinds = [i["kind"] for i in items]
    assert "broken" not in kinds and kinds.count("status") == 2  # received, then confirmed
    assert any(
        i["kind"] == "audit" and i["title"].startswith("booking.status_changed by Staff Tester")
        for i in items
    )
    moments = [dt.datetime.fromisoformat(i["at"]) for i in items]
    assert moments == sorted(moments, reverse=True)
    assert plugin.calls[-1][1] is None and str(plugin.calls[-1][0].id) == booking["id"]
    page = staff_browser(app, "viewer").get(f"/console/bookings/{booking['id']}")
    timeline = text_of(page, "timeline")
    assert "Paid $995" in timeline and "Email sent" in timeline
    assert timeline.index("Email sent") < timeline.index("Paid $995")


def test_customer_timeline_covers_their_bookings(app):
    plugin = TimelinePlugin()
    app.app.registry.hooks.register(plugin, "fake-timeline")
    me, headers = customer(app)
    booking = book(app, customer_body(), headers)
    staff = staff_headers(app, "staff")
    client(app).post_json(
        f"/api/v1/staff/bookings/{booking['id']}/status", {"status": "confirmed"}, headers=staff
    )
    answer = client(app).get(f"/api/v1/staff/customers/{me['id']}/timeline", headers=staff)
    items = answer.json["items"]
    assert any(i["title"] == f"{booking['number']}: Status confirmed" for i in items)
    assert any(i["kind"] == "audit" for i in items)
    assert plugin.calls[-1][0] is None and str(plugin.calls[-1][1].id) == me["id"]
    assert items[0]["title"] == "Email sent"
    page = staff_browser(app, "viewer").get(f"/console/customers/{me['id']}")
    assert "Paid $995" in text_of(page, "timeline")
    missing = "00000000-0000-4000-8000-000000000000"
    client(app).get(f"/api/v1/staff/customers/{missing}/timeline", headers=staff, status=404)
    client(app).get(f"/api/v1/staff/bookings/{missing}/timeline", headers=staff, status=404)
