"""A booking's changes the customer must know of (issue 13, item 19): cancelled (by anyone, with
the refund sentence), a status a staff member set, rescheduled, completed. Each is one email to
the booking's recipient (the customer's account email, else the guest's), sent once, and none is
sent where another email says it already or nothing the customer must know changed.

The app is that of ``support.notifications`` (pricing + the mock gateway + notifications with
the console mailer, tasks eager, clock on Monday 2026-11-23 10:00 New York, bookings for
Thursday ``DAY`` at the Petite price, $995.00; Saturdays cost 15% more, $1,144.25). Status
changes go through the API: the staff status endpoint, the cancel endpoint (a guest with its
token, a customer with its bearer) and the staff edit for dates.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
import support.notifications as notifications_support
from support.bookings import GUEST, OTHER_DAY, cancel
from support.notifications import (
    email_for,
    emails,
    fire,
    notifications,
    run,
    templates_of,
)
from support.payments import (
    CARD_DECLINED,
    DAY,
    STAFF_BOOKINGS,
    book,
    book_as_guest,
    booking_status,
    client,
    customer,
    customer_body,
    mock_confirm,
    paid_booking,
    pay,
    staff_member,
)
from totetaxi_notifications.models import Notification
from webtest import TestApp

from totetaxi_core.bookings.lifecycle import transition
from totetaxi_core.bookings.models import Booking

app = notifications_support.app  # the fixture: pricing, payments_mock, mail_console

PUBLIC_URL = "http://127.0.0.1:6543"
SATURDAY = dt.date(2026, 12, 5)  # weekend: +15 %
STAFF_REFUND = (
    "If you paid, our team will refund you and you will get an email when the refund is issued."
)
INTERNAL = "Customer was rude on the phone"  # a staff member's note: never in an email


def of_template(key: str) -> Any:
    return Notification.template_key == key


def the_one(app: TestApp, key: str) -> Notification:
    """The one notification of template ``key`` (fails when there are none or several)."""
    [row] = notifications(app, of_template(key))
    return row


def guest_link(created: dict[str, Any]) -> str:
    return f"{PUBLIC_URL}/bookings/{created['number']}?token={created['tracking_token']}"


def set_status(
    app: TestApp, created: dict[str, Any], status: str, reason: str = "", code: int = 200
) -> Any:
    """``POST /staff/bookings/{id}/status`` by a new staff member."""
    _, headers = staff_member(app, "staff")
    return client(app).post_json(
        f"{STAFF_BOOKINGS}/{created['id']}/status",
        {"status": status, "reason": reason},
        headers=headers,
        status=code,
    )


def staff_edit(app: TestApp, created: dict[str, Any], **changes: Any) -> Any:
    """``PATCH /staff/bookings/{id}`` by a new staff member."""
    _, headers = staff_member(app, "staff")
    return client(app).patch_json(
        f"{STAFF_BOOKINGS}/{created['id']}", changes, headers=headers, status=200
    )


def everything_sent(app: TestApp) -> str:
    """Every email's subject and bodies, and every notification's stored variables."""
    parts = [e.subject + e.text + e.html for e in emails(app)]
    parts += [str(row.context) + row.text_body + row.html_body for row in notifications(app)]
    return "\n".join(parts)


def cancelled_by_hook(
    app: TestApp,
    created: dict[str, Any],
    old_status: str,
    reason: str | None = None,
    **recorded: Any,
) -> None:
    """Fire the cancellation event with what the core records on the booking (``cancelled_by``,
    ``cancellation_refund_percent``) set as given, without an actor."""

    def work(ctx: Any) -> None:
        booking = ctx.dbsession.get(Booking, uuid.UUID(created["id"]))
        for name, value in recorded.items():
            setattr(booking, name, value)
        ctx.call_hook(
            "totetaxi_booking_status_changed",
            booking=booking,
            old_status=old_status,
            new_status="cancelled",
            reason=reason,
        )

    run(app, work)


# --- cancelled ---------------------------------------------------------------------------------


@pytest.mark.both_databases
def test_a_guest_cancelling_is_emailed_once_with_their_reason_and_link(app):
    created = book_as_guest(app)
    cancel(
        app,
        created["id"],
        params={"token": created["tracking_token"]},
        body={"reason": "Plans changed"},
    )
    row = the_one(app, "booking_cancelled")
    assert (row.recipient, row.customer_id, row.status, row.unique_key) == (
        GUEST["email"],
        None,
        "sent",
        f"booking_cancelled:{created['id']}",
    )
    assert row.context["cancellation"] == {
        "by": "customer",
        "refund_percent": None,  # nothing was paid
        "reason": "Plans changed",
    }
    mail = email_for(app, "booking_cancelled")
    number = created["number"]
    assert mail.to == GUEST["email"] and mail.subject == f"Booking {number} is cancelled"
    assert mail.text.startswith(f"Hello {GUEST['first_name']},\n\n")
    assert f"As you asked, we cancelled booking {number}.\n\nYour reason: Plans changed\n\n" in (
        mail.text
    )
    assert "refund" not in mail.text  # unpaid: no refund sentence at all
    assert f"Your booking: {guest_link(created)}\n" in mail.text
    assert "Your reason: Plans changed" in mail.html
    # Cancelling again is refused and sends nothing.
    cancel(app, created["id"], params={"token": created["tracking_token"]}, body={}, status=409)
    assert templates_of(app) == ["booking_cancelled", "booking_received"]
    assert len(emails(app)) == 2


def test_a_customer_cancelling_a_paid_booking_is_emailed_at_the_account_address(app):
    me, headers = customer(app)
    created, _ = paid_booking(app, headers)
    cancel(app, created["id"], headers=headers, body={"reason": "Moving later"})
    row = the_one(app, "booking_cancelled")
    assert (row.recipient, row.customer_id) == (me["email"], uuid.UUID(me["id"]))
    # The percent the cancellation policy gave, once the core records it (None before).
    percent = run(
        app,
        lambda ctx: getattr(
            ctx.dbsession.get(Booking, uuid.UUID(created["id"])),
            "cancellation_refund_percent",
            None,
        ),
    )
    assert row.context["cancellation"] == {
        "by": "customer",
        "refund_percent": percent,
        "reason": "Moving later",
    }
    mail = email_for(app, "booking_cancelled")
    assert mail.to == me["email"] and mail.text.startswith("Hello Casey,\n")
    assert f"As you asked, we cancelled booking {created['number']}." in mail.text
    if percent:
        assert f"{percent}% of what you paid will be refunded to your card" in mail.text
    assert STAFF_REFUND not in mail.text
    assert "token=" not in mail.text  # a customer's link is the plain booking page


@pytest.mark.parametrize(
    ("old_status", "percent", "sentence"),
    [
        (
            "confirmed",
            100,
            "100% of what you paid will be refunded to your card; you will get an email when "
            "the refund is issued.",
        ),
        (
            "confirmed",
            50,
            "50% of what you paid will be refunded to your card; you will get an email when "
            "the refund is issued.",
        ),
        ("confirmed", 0, "Under our cancellation policy, this cancellation is not refunded."),
        ("confirmed", None, None),  # the policy gave nothing to say (no percent recorded)
        ("pending_payment", 100, None),  # not paid: the policy's percent is of nothing
    ],
)
def test_a_customers_cancellation_says_what_the_policy_refunds(app, old_status, percent, sentence):
    created = book_as_guest(app)
    cancelled_by_hook(
        app,
        created,
        old_status,
        "Plans changed",
        cancelled_by="customer",
        cancellation_refund_percent=percent,
    )
    row = the_one(app, "booking_cancelled")
    expected = percent if old_status == "confirmed" else None
    assert row.context["cancellation"]["refund_percent"] == expected
    mail = email_for(app, "booking_cancelled")
    refund_lines = [line for line in mail.text.splitlines() if "refund" in line]
    assert refund_lines == ([sentence] if sentence else [])
    if sentence:
        assert sentence in mail.html


@pytest.mark.both_databases
def test_a_staff_cancellation_says_our_team_refunds_and_never_shows_the_staff_note(app):
    created, _ = paid_booking(app)
    set_status(app, created, "cancelled", INTERNAL)
    assert booking_status(app, created["id"]) == "cancelled"
    row = the_one(app, "booking_cancelled")
    assert row.recipient == GUEST["email"]
    assert row.context["cancellation"] == {"by": "staff", "refund_percent": None, "reason": ""}
    mail = email_for(app, "booking_cancelled")
    assert f"Booking {created['number']} was cancelled by our team.\n\n{STAFF_REFUND}\n\n" in (
        mail.text
    )
    assert STAFF_REFUND in mail.html
    assert "Your reason" not in mail.text
    assert INTERNAL not in everything_sent(app)


def test_a_staff_cancellation_through_the_cancel_endpoint_is_the_same_email(app):
    created = book_as_guest(app)
    _, headers = staff_member(app, "staff")
    cancel(app, created["id"], headers=headers, body={"reason": INTERNAL})
    assert the_one(app, "booking_cancelled").context["cancellation"]["by"] == "staff"
    assert "by our team" in email_for(app, "booking_cancelled").text
    assert INTERNAL not in everything_sent(app)


@pytest.mark.both_databases
def test_payment_attempts_used_up_email_payment_failed_only_not_booking_cancelled_too(app):
    created = book_as_guest(app)
    started = pay(app, created)
    for _ in range(3):
        mock_confirm(app, started["payment_id"], CARD_DECLINED, created)
    assert booking_status(app, created["id"]) == "cancelled"
    # The last payment_failed email says the booking was cancelled: no second email about it.
    assert templates_of(app) == ["booking_received"] + ["payment_failed"] * 3
    last = [e for e in emails(app) if "The booking has been cancelled." in e.text]
    assert len(last) == 1 and last[0].to == GUEST["email"]


def test_another_cancellation_by_the_system_is_emailed(app):
    """A system cancellation no payment_failed email announced (an expiry, say) is emailed,
    without the system's reason (it is written for the history, not to the customer)."""
    created = book_as_guest(app)
    cancelled_by_hook(app, created, "pending_payment", "Expired unpaid.", cancelled_by="system")
    row = the_one(app, "booking_cancelled")
    assert row.context["cancellation"] == {"by": "system", "refund_percent": None, "reason": ""}
    mail = email_for(app, "booking_cancelled")
    assert f"Booking {created['number']} was cancelled.\n\n{STAFF_REFUND}\n\n" in mail.text
    assert "Expired unpaid." not in mail.text and "by our team" not in mail.text


def test_a_cancellation_fired_twice_sends_one_email(app):
    created = book_as_guest(app)
    for _ in range(2):
        cancelled_by_hook(app, created, "pending_payment", cancelled_by="customer")
    assert templates_of(app) == ["booking_cancelled", "booking_received"]
    assert len(emails(app)) == 2


# --- a status a staff member set -----------------------------------------------------------------


@pytest.mark.both_databases
def test_staff_confirming_then_starting_a_customers_booking_email_each_status_once(app):
    me, headers = customer(app)
    created = book(app, customer_body(), headers)
    number = created["number"]
    set_status(app, created, "confirmed", "Paid by phone")
    confirmed = the_one(app, "booking_status_changed")
    assert (confirmed.recipient, confirmed.customer_id, confirmed.unique_key) == (
        me["email"],
        uuid.UUID(me["id"]),
        f"booking_status_changed:{created['id']}:confirmed",
    )
    assert confirmed.context["change"] == {
        "old_status": "pending_payment",
        "new_status": "confirmed",
    }
    mail = email_for(app, "booking_status_changed")
    assert mail.to == me["email"] and mail.subject == f"Booking {number} is confirmed"
    assert (
        f"Our team confirmed your booking {number}. We will pick up your items on Thursday, "
        "December 3, 2026, Morning (8 AM – 12 PM)."
    ) in mail.text
    assert f"{PUBLIC_URL}/bookings/{number}\n" in mail.text

    set_status(app, created, "in_progress", "Van 2 left the depot")
    rows = notifications(app, of_template("booking_status_changed"))
    assert [r.context["change"]["new_status"] for r in rows] == ["confirmed", "in_progress"]
    started = next(e for e in emails(app) if e.notification == str(rows[1].id))
    assert started.to == me["email"]
    assert started.subject == f"Booking {number}: your move is under way"
    assert f"Your move is under way: our team has started on booking {number}." in started.text
    # A staff member's reasons are internal.
    sent = everything_sent(app)
    assert "Paid by phone" not in sent and "Van 2" not in sent
    assert templates_of(app) == [
        "booking_received",
        "booking_status_changed",
        "booking_status_changed",
    ]


def test_a_confirmation_by_the_payment_webhook_sends_payment_confirmed_only(app):
    paid_booking(app)
    assert templates_of(app) == ["booking_received", "payment_confirmed"]


def test_a_status_change_without_a_staff_actor_sends_no_status_email(app):
    """A confirmation or a start by the system (a dispatcher, say) is not a staff change."""
    created = book_as_guest(app)

    def confirm_then_start(ctx: Any) -> None:
        booking = ctx.dbsession.get(Booking, uuid.UUID(created["id"]))
        transition(ctx, booking, "confirmed", "Paid elsewhere.")
        transition(ctx, booking, "in_progress")

    run(app, confirm_then_start)
    assert booking_status(app, created["id"]) == "in_progress"
    assert templates_of(app) == ["booking_received"]


# --- completed -----------------------------------------------------------------------------------


@pytest.mark.both_databases
def test_completing_a_guests_booking_emails_booking_completed_once(app):
    created, _ = paid_booking(app)
    set_status(app, created, "in_progress")
    set_status(app, created, "completed", "All boxes in")
    row = the_one(app, "booking_completed")
    assert (row.recipient, row.status, row.unique_key) == (
        GUEST["email"],
        "sent",
        f"booking_completed:{created['id']}",
    )
    mail = email_for(app, "booking_completed")
    number = created["number"]
    assert mail.to == GUEST["email"] and mail.subject == f"Booking {number} is complete"
    assert (
        f"Your move with booking {number} is complete: your items are at 12 Dune Rd, "
        "Southampton, NY 11968. Thank you for moving with ToteTaxi."
    ) in mail.text
    assert f"Your booking: {guest_link(created)}\n" in mail.text
    assert "All boxes in" not in everything_sent(app)
    # Completion is its own email, not a status change one; nothing more is sent for it.
    assert templates_of(app) == [
        "booking_completed",
        "booking_received",
        "booking_status_changed",
        "payment_confirmed",
    ]
    set_status(app, created, "completed", code=409)
    assert len(emails(app)) == 4


def test_completion_by_anyone_is_emailed(app):
    """The system (a dispatcher closing the delivery) completes a booking: emailed too."""
    me, headers = customer(app)
    created, _ = paid_booking(app, headers)

    def start_then_complete(ctx: Any) -> None:
        booking = ctx.dbsession.get(Booking, uuid.UUID(created["id"]))
        transition(ctx, booking, "in_progress")
        transition(ctx, booking, "completed")

    run(app, start_then_complete)
    row = the_one(app, "booking_completed")
    assert (row.recipient, row.customer_id) == (me["email"], uuid.UUID(me["id"]))
    assert email_for(app, "booking_completed").to == me["email"]


# --- rescheduled ---------------------------------------------------------------------------------


@pytest.mark.both_databases
def test_a_staff_date_change_emails_booking_rescheduled_with_both_dates(app):
    created = book_as_guest(app)
    answer = staff_edit(app, created, date=OTHER_DAY.isoformat()).json
    row = the_one(app, "booking_rescheduled")
    assert (row.recipient, row.status, row.unique_key) == (
        GUEST["email"],
        "sent",
        f"booking_rescheduled:{created['id']}:{answer['version']}",
    )
    assert row.context["reschedule"] == {
        "old_date": "Thursday, December 3, 2026",
        "new_date": "Tuesday, December 8, 2026",
        "old_time_window": "Morning (8 AM – 12 PM)",
        "new_time_window": "Morning (8 AM – 12 PM)",
        "old_total": "$995.00",
        "new_total": "$995.00",
        "difference": "$0.00",
        "difference_cents": 0,
        "paid": False,
    }
    mail = email_for(app, "booking_rescheduled")
    number = created["number"]
    assert mail.to == GUEST["email"]
    assert mail.subject == f"New pickup time for booking {number}"
    assert (
        f"The pickup of booking {number} moved from Thursday, December 3, 2026, Morning (8 AM – "
        "12 PM) to Tuesday, December 8, 2026, Morning (8 AM – 12 PM).\n\nBooking:"
    ) in mail.text
    assert "Pickup: Tuesday, December 8, 2026, Morning (8 AM – 12 PM)\n" in mail.text
    assert "than before" not in mail.text  # the same price
    assert f"Your booking: {guest_link(created)}\n" in mail.text
    # The same event again (a retried delivery of it) sends nothing new.
    fire(
        app,
        "totetaxi_booking_changed",
        created["id"],
        changes={"date": {"before": DAY.isoformat(), "after": OTHER_DAY.isoformat()}},
    )
    assert templates_of(app) == ["booking_received", "booking_rescheduled"]
    # A second move is a second email.
    staff_edit(app, created, time_window="afternoon")
    rows = notifications(app, of_template("booking_rescheduled"))
    assert len(rows) == 2 and len(emails(app)) == 3
    assert rows[1].context["reschedule"]["old_date"] == "Tuesday, December 8, 2026"
    assert rows[1].context["reschedule"]["new_time_window"] == "Afternoon (12 PM – 5 PM)"


def test_a_paid_booking_moved_to_a_dearer_day_says_what_is_left_to_pay(app):
    me, headers = customer(app)
    created, _ = paid_booking(app, headers)
    staff_edit(app, created, date=SATURDAY.isoformat())
    row = the_one(app, "booking_rescheduled")
    assert row.recipient == me["email"]
    reschedule = row.context["reschedule"]
    assert (reschedule["old_total"], reschedule["new_total"], reschedule["difference"]) == (
        "$995.00",
        "$1,144.25",
        "$149.25",
    )
    assert (reschedule["difference_cents"], reschedule["paid"]) == (14925, True)
    mail = email_for(app, "booking_rescheduled")
    sentence = (
        "The new total is $1,144.25, $149.25 more than before: the difference is left to pay on "
        "your booking's page."
    )
    assert sentence in mail.text and sentence in mail.html
    assert "Total: $1,144.25\n" in mail.text


@pytest.mark.parametrize("paid", [True, False], ids=["paid", "unpaid"])
def test_a_booking_moved_to_a_cheaper_day_says_the_difference_is_refunded_when_paid(app, paid):
    if paid:
        created = book_as_guest(app, SATURDAY)
        started = pay(app, created)
        mock_confirm(app, started["payment_id"], booking=created)
    else:
        created = book_as_guest(app, SATURDAY)
    staff_edit(app, created, date=DAY.isoformat(), time_window="afternoon")
    row = the_one(app, "booking_rescheduled")
    assert row.context["reschedule"]["difference_cents"] == -14925
    assert row.context["reschedule"]["paid"] is paid
    text = email_for(app, "booking_rescheduled").text
    assert (
        "moved from Saturday, December 5, 2026, Morning (8 AM – 12 PM) to Thursday, December 3, "
        "2026, Afternoon (12 PM – 5 PM)."
    ) in text
    cheaper = "The new total is $995.00, $149.25 less than before"
    refunded = (
        ": the difference will be refunded to your card, and you will get an email when the "
        "refund is issued."
    )
    assert (cheaper + refunded if paid else cheaper + ".\n") in text
    if not paid:
        assert "refunded" not in text


@pytest.mark.parametrize(
    "changes",
    [
        {"notes": "Ring twice"},
        {
            "delivery_address": {
                "line1": "14 Dune Rd",
                "city": "Southampton",
                "state": "NY",
                "postal_code": "11968",
            }
        },
        {"package": "standard"},
        {"date": DAY.isoformat(), "time_window": "morning"},  # what it was: nothing changes
    ],
    ids=["notes", "address", "package", "same-date"],
)
def test_a_staff_edit_that_does_not_move_the_pickup_sends_no_rescheduled_email(app, changes):
    created = book_as_guest(app)
    staff_edit(app, created, **changes)
    assert templates_of(app) == ["booking_received"]
    assert len(emails(app)) == 1
