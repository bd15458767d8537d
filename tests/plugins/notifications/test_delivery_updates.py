"""``totetaxi_delivery_updated``: one email per update ``key`` (a replayed provider event sends
nothing new, a reassignment to another driver emails again), the pickup's and the drop-off's
assignment each read right, a rescheduled task tells its new date and window in New York time,
the statuses without a template send nothing, and a failure's reason (internal) never reaches
the customer.

The app is that of ``support.notifications`` (tasks eager: an email is in the folder as soon as
the event's transaction commits); the booking is made with the test kit's ``make_booking`` for
Thursday ``DAY``, and the logistics plugin's task is a stand-in (``SimpleNamespace``) fired
through ``ctx.call_hook`` in a transaction of its own (``in_transaction``).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from types import SimpleNamespace
from typing import Any

import pytest
import support.notifications as notifications_support
from support.bookings import DAY, GUEST, ny
from support.notifications import email_for, emails, notifications, templates_of
from totetaxi_notifications import hooks
from totetaxi_notifications.models import Notification
from webtest import TestApp

from totetaxi_core.bookings.models import Booking
from totetaxi_core.testing import in_transaction, make_booking

app = notifications_support.app  # the fixture: pricing, payments_mock, mail_console

DELIVERY_ADDRESS = "12 Dune Rd, Southampton, NY 11968"
#: What the driver wrote for the dispatcher: never for the customer.
FAILURE_REASON = "Doorman refused entry; gate code 4471 did not work"


def task(**extra: Any) -> SimpleNamespace:
    """A delivery task as the logistics plugin hands it over: the pickup on ``DAY``'s
    morning."""
    fields = {
        "id": uuid.uuid4(),
        "kind": "pickup",
        "driver_name": "Sam",
        "eta": None,
        "complete_after": ny(2026, 12, 3, 8),
        "complete_before": ny(2026, 12, 3, 12),
        "failure_reason": "",
    }
    return SimpleNamespace(**{**fields, **extra})


def updated(app: TestApp, booking: dict[str, Any], the_task: Any, status: str, key: str) -> None:
    """Fire the hook as the logistics plugin does: in a committed transaction of its own."""

    def work(ctx: Any) -> None:
        row = ctx.dbsession.get(Booking, uuid.UUID(booking["id"]))
        ctx.call_hook(
            "totetaxi_delivery_updated", task=the_task, booking=row, status=status, key=key
        )

    in_transaction(app.app.registry, work)


def delivery_rows(app: TestApp) -> list[Notification]:
    return notifications(app, Notification.template_key != "booking_received")


@pytest.fixture
def booking(app) -> dict[str, Any]:
    return make_booking(app, DAY)


# --- once per key -------------------------------------------------------------------------


@pytest.mark.both_databases
@pytest.mark.parametrize("status", sorted(hooks.DELIVERY_TEMPLATES))
def test_the_same_key_twice_sends_one_email(app, booking, status):
    the_task = task(kind="dropoff" if status in ("delivered", "rescheduled") else "pickup")
    updated(app, booking, the_task, status, "evt-1")
    updated(app, booking, the_task, status, "evt-1")  # the provider's webhook, replayed
    [row] = delivery_rows(app)
    template_key = hooks.DELIVERY_TEMPLATES[status]
    assert (row.template_key, row.unique_key, row.status) == (
        template_key,
        f"{template_key}:evt-1",
        "sent",
    )
    assert len(emails(app)) == 2  # booking_received and this one


@pytest.mark.both_databases
def test_a_reassignment_emails_the_new_driver(app, booking):
    first = task(driver_name="Sam")
    updated(app, booking, first, "assigned", "assigned-1")
    # Another driver takes the same task over: a new key.
    second = SimpleNamespace(**{**vars(first), "driver_name": "Ana"})
    updated(app, booking, second, "assigned", "assigned-2")
    updated(app, booking, second, "assigned", "assigned-2")  # replayed: nothing new
    rows = delivery_rows(app)
    assert sorted((r.unique_key, r.context["delivery"]["driver_name"]) for r in rows) == [
        ("delivery_assigned:assigned-1", "Sam"),
        ("delivery_assigned:assigned-2", "Ana"),
    ]
    texts = sorted(e.text for e in emails(app) if "assigned" in e.subject)
    assert len(texts) == 2
    assert any("Sam will pick up your items on" in t for t in texts)
    assert any("Ana will pick up your items on" in t for t in texts)
    assert all(e.to == GUEST["email"] for e in emails(app))


@pytest.mark.parametrize("status", ["eta", "started", "arrived", "unassigned", "cancelled"])
def test_a_status_without_a_template_sends_nothing(app, booking, status):
    updated(app, booking, task(eta=ny(2026, 12, 3, 9, 40)), status, f"{status}-1")
    assert templates_of(app) == ["booking_received"] and len(emails(app)) == 1


# --- what the emails say ------------------------------------------------------------------


def test_the_pickups_assignment_says_when_the_driver_comes(app, booking):
    updated(app, booking, task(), "assigned", "a-1")
    mail = email_for(app, "delivery_assigned")
    assert mail.subject == f"A driver is assigned to booking {booking['number']}"
    line = "Sam will pick up your items on Thursday, December 3, 2026, 8:00 AM – 12:00 PM."
    assert line in mail.text and line in mail.html
    [row] = delivery_rows(app)
    assert row.context["delivery"] == {
        "status": "assigned",
        "kind": "pickup",
        "driver_name": "Sam",
        "eta": "",
        "window": "Thursday, December 3, 2026, 8:00 AM – 12:00 PM",
    }


def test_the_drop_offs_assignment_says_where_and_when_the_items_arrive(app, booking):
    dropoff = task(
        kind="dropoff",
        driver_name="",
        complete_after=ny(2026, 12, 4, 13),
        complete_before=ny(2026, 12, 4, 17),
    )
    updated(app, booking, dropoff, "assigned", "a-1")
    mail = email_for(app, "delivery_assigned")
    assert (
        f"Our driver will deliver your items to {DELIVERY_ADDRESS} on Friday, December 4, 2026, "
        "1:00 PM – 5:00 PM."
    ) in mail.text
    assert "pick up" not in mail.text.split("Booking:")[0]


@pytest.mark.both_databases
@pytest.mark.parametrize(
    ("kind", "subject", "sentence"),
    [
        (
            "pickup",
            "New pickup time for booking {number}",
            "We rescheduled the pickup of your items for booking {number}.",
        ),
        (
            "dropoff",
            "New delivery time for booking {number}",
            "We rescheduled the delivery of your items to " + DELIVERY_ADDRESS + " for booking "
            "{number}.",
        ),
    ],
)
def test_a_rescheduled_task_tells_the_new_date_and_window_in_new_york_time(
    app, booking, kind, subject, sentence
):
    # The task failed on Thursday; the new attempt is on Tuesday morning, New York time
    # (13:00 to 17:00 UTC).
    failed = task(kind=kind, failure_reason=FAILURE_REASON)
    updated(app, booking, failed, "failed", "failed-1")
    moved = task(
        id=failed.id,
        kind=kind,
        failure_reason=FAILURE_REASON,
        complete_after=dt.datetime(2026, 12, 8, 13, tzinfo=dt.UTC),
        complete_before=dt.datetime(2026, 12, 8, 17, tzinfo=dt.UTC),
    )
    updated(app, booking, moved, "rescheduled", "rescheduled-1")
    assert templates_of(app) == ["booking_received", "delivery_failed", "delivery_rescheduled"]
    mail = email_for(app, "delivery_rescheduled")
    number = booking["number"]
    assert mail.to == GUEST["email"] and mail.subject == subject.format(number=number)
    assert sentence.format(number=number) in mail.text
    new_time = "The new time is Tuesday, December 8, 2026, 8:00 AM – 12:00 PM."
    assert new_time in mail.text and new_time in mail.html
    [row] = notifications(app, Notification.template_key == "delivery_rescheduled")
    assert row.unique_key == "delivery_rescheduled:rescheduled-1"
    assert row.context["delivery"]["window"] == "Tuesday, December 8, 2026, 8:00 AM – 12:00 PM"


def test_a_rescheduled_task_without_a_window_yet_says_the_time_will_follow(app, booking):
    updated(app, booking, task(complete_after=None, complete_before=None), "rescheduled", "r-1")
    mail = email_for(app, "delivery_rescheduled")
    assert "we will let you know the new time shortly." in mail.text
    assert "The new time is" not in mail.text


@pytest.mark.parametrize("status", ["failed", "rescheduled"])
def test_the_failure_reason_never_reaches_the_customer(app, booking, status):
    updated(app, booking, task(failure_reason=FAILURE_REASON), status, "k-1")
    [row] = delivery_rows(app)
    assert "failure_reason" not in row.context["delivery"]
    assert FAILURE_REASON not in json.dumps(row.context)
    [mail] = [e for e in emails(app) if e.notification == str(row.id)]
    for part in (mail.subject, mail.text, mail.html):
        assert "Doorman" not in part and "4471" not in part


# --- the window, in New York time ----------------------------------------------------------


@pytest.mark.parametrize(
    ("after", "before", "shown"),
    [
        (ny(2026, 12, 8, 8), ny(2026, 12, 8, 12), "Tuesday, December 8, 2026, 8:00 AM – 12:00 PM"),
        # Summer time: 12:00 UTC is 8 AM in New York.
        (
            dt.datetime(2026, 7, 7, 12, tzinfo=dt.UTC),
            dt.datetime(2026, 7, 7, 16, 30, tzinfo=dt.UTC),
            "Tuesday, July 7, 2026, 8:00 AM – 12:30 PM",
        ),
        # Past midnight in New York (still the same day in UTC): both days said.
        (
            ny(2026, 12, 8, 22),
            ny(2026, 12, 9, 1),
            "Tuesday, December 8, 2026, 10:00 PM – Wednesday, December 9, 2026, 1:00 AM",
        ),
        (ny(2026, 12, 8, 13), None, "Tuesday, December 8, 2026, from 1:00 PM"),
        (None, ny(2026, 12, 8, 17), "Tuesday, December 8, 2026, by 5:00 PM"),
        (None, None, ""),
        ("2026-12-08T13:00:00Z", None, ""),  # not a datetime: nothing rather than a wrong time
    ],
)
def test_a_tasks_window_is_shown_in_new_york_time(after, before, shown):
    assert hooks._task_window(after, before) == shown
