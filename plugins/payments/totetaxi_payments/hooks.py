"""The payments plugin's hook implementations."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select

from totetaxi_core.plugin_api import booking_event, entries_panel, hookimpl, publish_live

from . import console, services
from .models import OPEN_STATUSES, Payment, PaymentStatus, Refund, RefundStatus, SavedMethod


@hookimpl
def totetaxi_booking_status_changed(
    ctx: Any, booking: Any, old_status: str, new_status: str, reason: str | None
) -> None:
    staff_confirmed = new_status == "confirmed" and getattr(ctx.actor, "kind", None) == "staff"
    if new_status != "cancelled" and not staff_confirmed:
        return
    # A cancelled booking must not be charged later, nor one staff confirmed by hand (paid by
    # phone): cancel its open intents (after commit). One paid meanwhile needs attention.
    for payment in ctx.dbsession.scalars(
        select(Payment).where(Payment.booking_id == booking.id, Payment.status.in_(OPEN_STATUSES))
    ):
        services.cancel_payment(ctx, payment, "The booking was cancelled.")
    if new_status == "cancelled":
        refund_cancelled(ctx, booking, reason)


def refund_cancelled(ctx: Any, booking: Any, reason: str | None) -> None:
    """No cancelled booking keeps money silently (BUSINESS_RULES.md "Cancellation").

    The customer's own cancellation refunds what the policy's tier earned, at once and without
    approval; a cancellation by staff (or the system) opens a refund request for everything
    still refundable, which an admin approves, reduces with a reason, or rejects.
    """
    by_customer = booking.cancelled_by == "customer"
    percent = booking.cancellation_refund_percent or 0
    for payment in ctx.dbsession.scalars(
        select(Payment)
        .where(Payment.booking_id == booking.id, Payment.status == PaymentStatus.SUCCEEDED)
        .order_by(Payment.created_at)
    ):
        if payment.refundable_cents <= 0:
            continue
        if by_customer:
            amount = min(
                (payment.amount_received_cents * percent + 50) // 100, payment.refundable_cents
            )
            if amount > 0:
                services.request_refund(
                    ctx,
                    payment,
                    amount,
                    f"Cancelled by the customer: {percent}% back under the cancellation policy.",
                    source="policy",
                )
        else:
            who = "staff" if booking.cancelled_by == "staff" else "the system"
            services.request_refund(
                ctx,
                payment,
                payment.refundable_cents,
                f"Booking cancelled by {who}" + (f": {reason}" if reason else "."),
            )


@hookimpl
def totetaxi_payment_succeeded(ctx: Any, payment: Any, booking: Any) -> None:
    """The booking's customer, guest and the console see the payment's result (after commit)."""
    publish_live(ctx, booking_event("payment.result", booking, _result(payment, "succeeded")))


@hookimpl
def totetaxi_payment_failed(
    ctx: Any, payment: Any, booking: Any, reason: str, attempts_left: int
) -> None:
    data = {**_result(payment, "failed"), "reason": reason, "attempts_left": attempts_left}
    publish_live(ctx, booking_event("payment.result", booking, data))


@hookimpl
def totetaxi_refund_completed(ctx: Any, refund: Any, payment: Any, booking: Any) -> None:
    data = {**_result(payment, "refunded"), "refund_cents": refund.amount_cents}
    publish_live(ctx, booking_event("payment.result", booking, data))


def _result(payment: Any, result: str) -> dict[str, Any]:
    return {"payment_id": str(payment.id), "result": result, "amount_cents": payment.amount_cents}


@hookimpl
def totetaxi_booking_changed(ctx: Any, booking: Any, changes: dict[str, Any]) -> None:
    if "total_cents" not in changes:
        return
    # An open intent charges the old total: cancel it; the next payment asks for the new one.
    for payment in ctx.dbsession.scalars(
        select(Payment).where(Payment.booking_id == booking.id, Payment.status.in_(OPEN_STATUSES))
    ):
        services.cancel_payment(ctx, payment, "The booking's total changed.")
    before, after = changes["total_cents"]["before"], changes["total_cents"]["after"]
    if getattr(ctx.actor, "kind", None) != "staff" and booking.status == "confirmed":
        # The customer's own reschedule: a cheaper day refunds the difference by policy; a
        # dearer one leaves a balance (``balance_cents``) paid through POST .../payments.
        if after < before:
            refund_difference(ctx, booking, before - after)
        return
    # A staff edit after payment: the difference is to collect or to refund. Staff see it on
    # the dashboard and decide.
    for payment in ctx.dbsession.scalars(
        select(Payment).where(
            Payment.booking_id == booking.id, Payment.status == PaymentStatus.SUCCEEDED
        )
    ):
        payment.needs_attention = True
        services.record(
            ctx,
            "payment.total_changed",
            payment=payment,
            amount_cents=after - before,
            note=f"The booking's total moved from {before} to {after} cents after "
            "payment: collect or refund the difference.",
        )


def refund_difference(ctx: Any, booking: Any, cents: int) -> None:
    """Refund ``cents`` (a cheaper reschedule) by policy, from the newest payments first."""
    for payment in ctx.dbsession.scalars(
        select(Payment)
        .where(Payment.booking_id == booking.id, Payment.status == PaymentStatus.SUCCEEDED)
        .order_by(Payment.created_at.desc())
    ):
        amount = min(cents, payment.refundable_cents)
        if amount <= 0:
            continue
        services.request_refund(
            ctx,
            payment,
            amount,
            "Rescheduled to a cheaper date: the difference back under the policy.",
            source="policy",
        )
        cents -= amount
        if cents == 0:
            return


@hookimpl
def totetaxi_booking_details(request: Any, booking: Any) -> dict[str, Any]:
    ctx = request.ctx
    return {
        "balance_cents": services.balance_due_cents(ctx, booking),
        "payments": [
            services.payment_json(p, for_payer=False) for p in services.payments_of(ctx, booking.id)
        ],
        "refunds": [services.refund_json(r) for r in services.refunds_of(ctx, booking.id)],
    }


@hookimpl
def totetaxi_customer_dashboard(request: Any, customer: Any) -> dict[str, Any]:
    return {
        "payment_methods": [
            services.method_json(m) for m in services.methods_of(request.ctx, customer.id)
        ]
    }


@hookimpl
def totetaxi_customer_summary(request: Any, customer: Any) -> dict[str, Any]:
    db = request.dbsession
    cards = db.scalar(
        select(func.count())
        .select_from(SavedMethod)
        .where(SavedMethod.customer_id == customer.id, SavedMethod.deleted_at.is_(None))
    )
    paid = db.scalar(
        select(func.coalesce(func.sum(Payment.amount_received_cents), 0)).where(
            Payment.customer_id == customer.id, Payment.status == PaymentStatus.SUCCEEDED
        )
    )
    return {"saved cards": cards, "paid (cents)": paid}


@hookimpl
def totetaxi_console_nav(request: Any) -> list[dict[str, Any]]:
    return [
        {
            "title": "Refunds",
            "route": "payments_refunds",
            "role": "viewer",
            "order": 30,
            "group": "Money",
        },
        {
            "title": "Payment attention",
            "route": "payments_attention",
            "role": "viewer",
            "order": 31,
            "group": "Money",
        },
    ]


@hookimpl
def totetaxi_dashboard_tiles(request: Any, period: str) -> list[dict[str, Any]]:
    waiting = request.dbsession.scalar(
        select(func.count()).select_from(Refund).where(Refund.status == RefundStatus.REQUESTED)
    )
    attention = request.dbsession.scalar(
        select(func.count()).select_from(Payment).where(Payment.needs_attention.is_(True))
    )
    return [
        {
            "title": "Refunds waiting for approval",
            "value": waiting,
            "detail": "An admin approves them under Refunds.",
            "route": "payments_refunds",
            "alert": bool(waiting),
            "order": 30,
        },
        {
            "title": "Payments needing attention",
            "value": attention,
            "detail": "Totals changed after payment: refund or collect, then settle.",
            "route": "payments_attention",
            "alert": bool(attention),
            "order": 31,
        },
    ]


@hookimpl
def totetaxi_booking_panels(
    request: Any, booking: Any, panel_state: Mapping[str, Any]
) -> list[dict[str, Any]]:
    return console.booking_panels(request, booking, panel_state)


@hookimpl(optionalhook=True)
def totetaxi_crm_figures(ctx: Any, start: Any, end: Any) -> dict[str, Any]:
    """The CRM dashboard's figures of ``[start, end)`` (SQL aggregates, in :mod:`.figures`)."""
    from . import figures

    return figures.figures(ctx, start, end)


from .reports import totetaxi_crm_reports  # noqa: E402, F401  (the CRM's reports)


@hookimpl
def totetaxi_timeline(request: Any, booking: Any, customer: Any) -> list[dict[str, Any]]:
    """This plugin's entries of a booking's or a customer's timeline (in :mod:`.timeline`)."""
    from . import timeline

    return timeline.entries(request, booking, customer)


@hookimpl
def totetaxi_customer_panels(request: Any, customer: Any) -> list[dict[str, Any]]:
    """The customer page's "Payments" panel: the newest ten, from :mod:`.timeline`."""
    from . import timeline

    return [entries_panel("Payments", timeline.entries(request, None, customer), order=60)]
