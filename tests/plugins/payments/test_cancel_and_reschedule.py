"""Money follows cancellations and reschedules (BUSINESS_RULES.md "Cancellation"): no paid
booking is cancelled or moved without a refund, a refund request or a balance to pay."""

from __future__ import annotations

import datetime as dt

import support.payments as payments_support
from sqlalchemy import select
from support.bookings import CANCEL_LIMIT, DAY, QUOTES, quote_fields, set_clock
from support.payments import (
    BOOKINGS,
    REFUNDS,
    booking_status,
    client,
    customer,
    mock_confirm,
    paid_booking,
    pay,
    payments,
    refunds,
    run,
    staff_member,
    vans_booked,
)
from totetaxi_pricing.models import CapacityDay

from totetaxi_core.audit import AuditRecord
from totetaxi_core.bookings.cancellation import Tier, replace_policy

app = payments_support.app  # pricing + payments_mock, clock on NOW (Monday 2026-11-23)

SATURDAY = dt.date(2026, 12, 5)  # +15% weekend
PETITE = 99500


def with_token(booking: dict, path: str) -> str:
    token = booking.get("tracking_token")
    return f"{path}?token={token}" if token else path


def cancel(app, booking, headers=None, status=200, **body):
    path = with_token(booking, f"{BOOKINGS}/{booking['id']}/cancel")
    return client(app).post_json(path, body, headers=headers or {}, status=status).json


def reschedule(app, booking, date, headers=None, status=200, **body):
    path = with_token(booking, f"{BOOKINGS}/{booking['id']}/reschedule")
    body = {"date": date.isoformat(), **body}
    return client(app).post_json(path, body, headers=headers or {}, status=status).json


def audit_actions(app) -> list[str]:
    return run(app, lambda ctx: list(ctx.dbsession.scalars(select(AuditRecord.action))))


# --- the policy is shown ---------------------------------------------------------------------


def test_the_quote_and_the_booking_show_the_policy_that_applies(app):
    quote = client(app).post_json(QUOTES, quote_fields(), status=200).json
    [tier] = quote["cancellation_policy"]["tiers"]
    assert (tier["hours_before"], tier["refund_percent"]) == (48, 100)
    assert dt.datetime.fromisoformat(tier["until"]) == CANCEL_LIMIT
    booking, _ = paid_booking(app)
    shown = client(app).get(with_token(booking, f"{BOOKINGS}/{booking['id']}")).json
    assert shown["cancellation_policy"]["tiers"][0]["refund_percent"] == 100
    assert "48 hours" in shown["cancellation_policy"]["summary"]


# --- cancellations ---------------------------------------------------------------------------


def test_a_guest_cancelling_a_paid_booking_in_the_free_window_is_refunded_by_policy(app):
    booking, _ = paid_booking(app)
    answer = cancel(app, booking, reason="Plans changed")
    assert answer["cancelled_by"] == "customer"
    assert answer["cancellation_refund_percent"] == 100
    [refund] = refunds(app)
    assert (refund.source, str(refund.status), refund.amount_cents) == (
        "policy",
        "succeeded",
        PETITE,
    )
    assert refund.requested_by is None
    [paid] = payments(app, booking["id"])
    assert paid.refunded_cents == PETITE and not paid.needs_attention
    assert "payments.refund_by_policy" in audit_actions(app)


def test_a_policy_tier_refunds_its_percent(app):
    run(app, lambda ctx: replace_policy(ctx, [Tier(48, 100), Tier(24, 50)]))
    booking, _ = paid_booking(app)
    set_clock(app, CANCEL_LIMIT + dt.timedelta(hours=1))  # 47 hours before: the 50% tier
    assert cancel(app, booking)["cancellation_refund_percent"] == 50
    [refund] = refunds(app)
    assert refund.amount_cents == PETITE // 2 and refund.source == "policy"


def test_a_booking_keeps_the_terms_it_was_sold_under(app):
    booking, _ = paid_booking(app)  # sold under 48h / 100% only
    run(app, lambda ctx: replace_policy(ctx, [Tier(48, 100), Tier(24, 50)]))
    set_clock(app, CANCEL_LIMIT + dt.timedelta(hours=1))
    cancel(app, booking, status=409)
    assert booking_status(app, booking["id"]) == "confirmed" and refunds(app) == []


def test_a_staff_cancellation_of_a_paid_booking_opens_a_refund_request(app):
    _, headers = customer(app)
    booking, _ = paid_booking(app, headers)
    member, staff = staff_member(app)
    set_clock(app, CANCEL_LIMIT + dt.timedelta(hours=30))  # inside 48 hours: staff still can
    answer = cancel(app, booking, staff, reason="Customer called")
    assert answer["cancelled_by"] == "staff" and answer["cancellation_refund_percent"] is None
    [refund] = refunds(app)
    assert (refund.source, str(refund.status), refund.amount_cents) == (
        "staff",
        "requested",
        PETITE,
    )
    assert refund.requested_by == member.id and "Customer called" in refund.reason


def test_an_admin_approves_less_with_a_reason_and_the_rest_is_released(app):
    booking, _ = paid_booking(app)
    _, staff = staff_member(app)
    cancel(app, booking, staff)
    [refund] = refunds(app)
    _, admin = staff_member(app, "admin")
    approve = f"{REFUNDS}/{refund.id}/approve"
    answer = client(app).post_json(approve, {"amount_cents": 50000}, headers=admin, status=400).json
    assert answer["errors"][0]["name"] == "note"
    client(app).post_json(
        approve, {"amount_cents": PETITE + 1, "note": "x"}, headers=admin, status=400
    )
    done = (
        client(app)
        .post_json(approve, {"amount_cents": 50000, "note": "Late cancellation fee"}, headers=admin)
        .json
    )
    assert (done["status"], done["amount_cents"]) == ("succeeded", 50000)
    [paid] = payments(app, booking["id"])
    assert (paid.refunded_cents, paid.refund_held_cents) == (50000, 50000)
    assert paid.refundable_cents == PETITE - 50000


def test_an_unpaid_cancelled_booking_owes_nothing_back(app):
    booking = payments_support.book_as_guest(app)
    cancel(app, booking)
    assert refunds(app) == []


# --- reschedules -----------------------------------------------------------------------------


def test_a_guest_reschedules_to_a_dearer_day_and_pays_the_balance(app):
    booking, _ = paid_booking(app)
    moved = reschedule(app, booking, SATURDAY, time_window="afternoon")
    weekend = PETITE + (PETITE * 15 + 50) // 100
    assert (moved["pickup_date"], moved["time_window"]) == (SATURDAY.isoformat(), "afternoon")
    assert moved["total_cents"] == weekend and moved["status"] == "confirmed"
    assert (vans_booked(app, DAY), vans_booked(app, SATURDAY)) == (0, 1)
    listed = client(app).get(with_token(booking, f"{BOOKINGS}/{booking['id']}/payments")).json
    assert listed["balance_cents"] == weekend - PETITE
    started = pay(app, booking)
    assert started["amount_cents"] == weekend - PETITE
    assert mock_confirm(app, started["payment_id"], booking=booking)["status"] == "succeeded"
    listed = client(app).get(with_token(booking, f"{BOOKINGS}/{booking['id']}/payments")).json
    assert listed["balance_cents"] == 0
    assert not any(p.needs_attention for p in payments(app, booking["id"]))
    assert booking_status(app, booking["id"]) == "confirmed"


def test_a_customer_reschedules_to_a_cheaper_day_and_the_difference_comes_back(app):
    _, headers = customer(app)
    created = payments_support.book(app, payments_support.customer_body(SATURDAY), headers)
    started = pay(app, created, headers)
    mock_confirm(app, started["payment_id"], headers=headers)
    weekend = created["total_cents"]
    moved = reschedule(app, created, DAY, headers)
    assert moved["total_cents"] == PETITE
    [refund] = refunds(app)
    assert (refund.source, str(refund.status), refund.amount_cents) == (
        "policy",
        "succeeded",
        weekend - PETITE,
    )


def test_a_full_day_refuses_the_move_and_nothing_changes(app):
    booking, _ = paid_booking(app)

    def blackout(ctx):
        ctx.dbsession.add(CapacityDay(day=SATURDAY, van_capacity=0))

    run(app, blackout)
    answer = reschedule(app, booking, SATURDAY, status=409)
    assert answer["status"] == "error"
    shown = client(app).get(with_token(booking, f"{BOOKINGS}/{booking['id']}")).json
    assert (shown["pickup_date"], shown["total_cents"]) == (DAY.isoformat(), PETITE)
    assert vans_booked(app, DAY) == 1 and refunds(app) == []


def test_customers_reschedule_until_48_hours_before_and_staff_any_time(app):
    booking, _ = paid_booking(app)
    set_clock(app, CANCEL_LIMIT + dt.timedelta(minutes=1))
    answer = reschedule(app, booking, dt.date(2026, 12, 8), status=409)
    assert "48 hours" in answer["errors"][0]["description"]
    _, staff = staff_member(app)
    moved = reschedule(app, {"id": booking["id"]}, dt.date(2026, 12, 8), staff)
    assert moved["pickup_date"] == "2026-12-08"


def test_only_the_owner_reschedules(app):
    booking, _ = paid_booking(app)
    _, stranger = customer(app)
    reschedule(app, {"id": booking["id"]}, SATURDAY, stranger, status=404)
    reschedule(app, {"id": booking["id"], "tracking_token": "wrong"}, SATURDAY, status=404)
    _, viewer = staff_member(app, "viewer")
    reschedule(app, {"id": booking["id"]}, SATURDAY, viewer, status=403)


def test_a_cancelled_booking_cannot_be_rescheduled(app):
    booking, _ = paid_booking(app)
    cancel(app, booking)
    answer = reschedule(app, booking, SATURDAY, status=409)
    assert answer["errors"][0]["name"] == "status"
