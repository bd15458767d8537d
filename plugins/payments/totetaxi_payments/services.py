"""Paying for bookings, settling by webhook, refunds with approval, saved cards.

Everything here runs in the caller's transaction (a request or a task). Calls to the gateway
that create or move money carry idempotency keys derived from our own rows, so a replayed
request or task asks the gateway for the same object instead of a second one (DESIGN §9).
"""

from __future__ import annotations

import hashlib
import time
import uuid
from typing import Any

from pyramid_retry import mark_error_retryable
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from totetaxi_core.plugin_api import (
    Booking,
    BookingStatus,
    Context,
    Customer,
    Refused,
    format_money,
    record_audit,
    record_event,
    transition,
)

from .gateway import GatewayError, PaymentGateway
from .models import (
    OPEN_STATUSES,
    GatewayCustomer,
    Payment,
    PaymentAudit,
    PaymentStatus,
    Refund,
    RefundStatus,
    SavedMethod,
    SetupAttempt,
    WebhookEventRecord,
)

CANCEL_INTENT_TASK = "payments.cancel_intent"
REFUND_TASK = "payments.send_refund"
#: An event for an intent of ours that we do not know is refused (503, sent again) while it is
#: this young; older, its creating request must have rolled back, and the intent is adopted.
ADOPT_AFTER_SECONDS = 600
TERMINAL = (PaymentStatus.SUCCEEDED, PaymentStatus.CANCELED)


class GatewayUnavailable(Exception):
    """The gateway did not answer (network, 5xx): the API says 503, try again."""


# --- plumbing ------------------------------------------------------------------------------------


def gateway(ctx: Context) -> PaymentGateway:
    """The enabled ``payment_gateway`` provider."""
    found = ctx.call_hook("totetaxi_payment_gateway")
    if found is None:
        raise RuntimeError("No payment_gateway provider is enabled (payments_mock or "
                           "payments_stripe).")
    return found


def _actor(ctx: Context) -> tuple[str, uuid.UUID | None]:
    actor = ctx.actor
    return str(getattr(actor, "kind", "system")), getattr(actor, "id", None)


def record(ctx: Context, action: str, *, payment: Payment | None = None,
           refund: Refund | None = None, booking_id: uuid.UUID | None = None,
           amount_cents: int | None = None, old_status: str = "", new_status: str = "",
           source: str = "", detail: dict[str, Any] | None = None, note: str = "") -> None:
    """Append a :class:`PaymentAudit` row (every money movement and state change)."""
    kind, actor_id = _actor(ctx)
    ctx.dbsession.add(PaymentAudit(
        payment_id=payment.id if payment else (refund.payment_id if refund else None),
        refund_id=refund.id if refund else None,
        booking_id=booking_id or (payment.booking_id if payment else
                                  (refund.booking_id if refund else None)),
        action=action, amount_cents=amount_cents, old_status=str(old_status or ""),
        new_status=str(new_status or ""), actor_kind=kind, actor_id=actor_id,
        source=source or str(ctx.extra.get("request_id") or ""), detail=detail or {},
        note=note[:2000]))


def _max_attempts(ctx: Context) -> int:
    return int(ctx.settings.get("payments.max_attempts", 3))


def failures(ctx: Context, booking_id: uuid.UUID) -> int:
    """Failed payment attempts of a booking, over all its payments."""
    return int(ctx.dbsession.scalar(select(func.coalesce(func.sum(Payment.attempts), 0))
                                    .where(Payment.booking_id == booking_id)) or 0)


def _set_status(ctx: Context, payment: Payment, status: PaymentStatus | str, *,
                source: str = "", note: str = "") -> None:
    old = payment.status
    status = PaymentStatus(status)
    if old == status:
        return
    payment.status = status
    record(ctx, "payment.status_changed", payment=payment, old_status=old, new_status=status,
           source=source, note=note)


# --- paying --------------------------------------------------------------------------------------


def gateway_customer(ctx: Context, customer: Customer) -> str:
    """Our customer's customer object at the gateway, created on first need."""
    gw = gateway(ctx)
    found = ctx.dbsession.scalars(select(GatewayCustomer).where(
        GatewayCustomer.customer_id == customer.id, GatewayCustomer.gateway == gw.name)).first()
    if found is not None:
        return found.gateway_customer_id
    gateway_id = gw.create_customer(email=customer.email, name=customer.display_name,
                                    idempotency_key=f"customer:{customer.id}:{gw.name}")
    ctx.dbsession.add(GatewayCustomer(customer_id=customer.id, gateway=gw.name,
                                      gateway_customer_id=gateway_id))
    try:
        ctx.dbsession.flush()
    except IntegrityError as exc:
        mark_error_retryable(exc)  # a concurrent first payment saved it: replay, then reuse
        raise
    return gateway_id


def _open_payment(ctx: Context, booking: Booking) -> Payment | None:
    return ctx.dbsession.scalars(
        select(Payment).where(Payment.booking_id == booking.id,
                              Payment.status.in_(OPEN_STATUSES))
        .order_by(Payment.created_at.desc())).first()


def start_payment(ctx: Context, booking: Booking, customer: Customer | None, *,
                  saved_method_id: str | None = None, save_method: bool = False) -> Payment:
    """Create (or reuse) the PaymentIntent for a booking waiting for payment.

    The amount is the booking's server-computed total. With a saved card the intent is
    confirmed at once; the webhook settles it either way.
    """
    if booking.status != BookingStatus.PENDING_PAYMENT:
        raise Refused(409, "status", f"Booking {booking.number} is {booking.status}; only a "
                                     "booking waiting for payment can be paid.")
    if save_method and customer is None:
        raise Refused(400, "save_method", "Saving a card needs a customer account; sign in or "
                                          "leave save_method out.")
    if failures(ctx, booking.id) >= _max_attempts(ctx):
        raise Refused(409, "status", "This booking has used all its payment attempts.")
    saved = None
    if saved_method_id is not None:
        saved = _saved_method(ctx, customer, saved_method_id, "payment_method_id")
    gw = gateway(ctx)
    # One payment is opened at a time per booking: concurrent requests queue on the booking's
    # row (PostgreSQL) and the second one finds the first's payment.
    ctx.dbsession.execute(select(Booking.id).where(Booking.id == booking.id).with_for_update())
    payment = _open_payment(ctx, booking)
    if payment is not None and payment.status == PaymentStatus.PROCESSING:
        # Already charged, its event on its way: replacing it could charge twice.
        raise Refused(409, "status", "A payment for this booking is already under way "
                                     f"({payment.status}); wait for it to finish.")
    if payment is not None and (payment.amount_cents != booking.total_cents
                                or saved is not None or save_method != payment.save_method):
        # That intent charges another amount, or lacks the customer and card now asked for. It
        # is cancelled at the gateway *now*: the customer may have paid it a moment ago, and
        # opening a second one then would charge twice.
        settled = _cancel_or_settle(ctx, payment, booking)
        if settled is not None:
            return settled
        payment = None
    if payment is not None:
        return payment
    ordinal = ctx.dbsession.scalar(select(func.count()).select_from(Payment)
                                   .where(Payment.booking_id == booking.id)) + 1
    customer_ref = None
    if customer is not None and (save_method or saved is not None):
        customer_ref = saved.gateway_customer_id if saved else gateway_customer(ctx, customer)
    payment_id = uuid.uuid4()
    try:
        intent = gw.create_intent(
            booking.total_cents, booking.currency.lower(),
            # Derived from the booking and the attempt number: a replayed request asks the
            # gateway for the same intent rather than creating a second one.
            idempotency_key=_payment_key(booking, ordinal, saved, save_method),
            customer_id=customer_ref,
            payment_method_id=saved.gateway_method_id if saved else None,
            confirm=saved is not None, save_method=save_method,
            metadata={"booking_id": str(booking.id), "booking_number": booking.number})
    except GatewayError as exc:
        if exc.retryable:
            raise GatewayUnavailable(exc.message) from None
        raise Refused(409, "payment", f"The payment gateway refused: {exc.message}") from None
    payment = Payment(
        id=payment_id, booking_id=booking.id, customer_id=customer.id if customer else None,
        amount_cents=booking.total_cents, currency=booking.currency, gateway=gw.name,
        gateway_intent_id=intent.id,
        # Settlement comes from the webhook only: an intent charged at once (a saved card) waits
        # as "processing" until its succeeded event is applied.
        status=(PaymentStatus.PROCESSING if intent.status == PaymentStatus.SUCCEEDED
                else PaymentStatus(intent.status)),
        save_method=save_method, client_secret=intent.client_secret,
        gateway_method_id=intent.payment_method_id, attempts=0, amount_received_cents=0,
        refund_held_cents=0, refunded_cents=0, last_event_at=0, failure_code="",
        failure_reason="", needs_attention=False)
    ctx.dbsession.add(payment)
    ctx.dbsession.flush()
    record(ctx, "payment.created", payment=payment, amount_cents=payment.amount_cents,
           new_status=payment.status, detail={"intent": intent.id, "ordinal": ordinal})
    return payment


def _payment_key(booking: Booking, ordinal: int, saved: SavedMethod | None,
                 save_method: bool) -> str:
    # The same attempt with the same parameters gets the same key (a replayed request finds its
    # intent); other parameters get another key, never an idempotency_error at the gateway.
    terms = f"{booking.total_cents}:{saved.gateway_method_id if saved else ''}:{save_method}"
    return (f"booking:{booking.id}:payment:{ordinal}:"
            + hashlib.sha256(terms.encode()).hexdigest()[:12])


def _cancel_or_settle(ctx: Context, payment: Payment, booking: Booking) -> Payment | None:
    """Cancel ``payment`` at the gateway; if it was paid meanwhile, settle it and return it."""
    gw = gateway(ctx)
    try:
        intent = gw.cancel_intent(payment.gateway_intent_id,
                                  idempotency_key=f"payment:{payment.id}:cancel")
    except GatewayError as exc:
        if exc.retryable:
            raise GatewayUnavailable(exc.message) from None
        intent = gw.retrieve_intent(payment.gateway_intent_id)
    if intent.status == PaymentStatus.SUCCEEDED:
        _succeeded(ctx, payment, booking, f"retrieved:{intent.id}", {
            "amount_received": intent.amount_received_cents,
            "payment_method": intent.payment_method_id, "customer": intent.customer_id})
        return payment
    _set_status(ctx, payment, PaymentStatus.CANCELED, note="Replaced by a new payment.")
    return None


def cancel_payment(ctx: Context, payment: Payment, why: str) -> None:
    """Cancel an open payment here now and at the gateway after commit (a task)."""
    if payment.status in TERMINAL:
        return
    _set_status(ctx, payment, PaymentStatus.CANCELED, note=why)
    ctx.enqueue(CANCEL_INTENT_TASK, str(payment.id))


def cancel_intent_task(ctx: Context, payment_id: str) -> str:
    """Background: cancel the payment's intent at the gateway (idempotent)."""
    payment = ctx.dbsession.get(Payment, uuid.UUID(payment_id))
    if payment is None:
        return "gone"
    try:
        gateway(ctx).cancel_intent(payment.gateway_intent_id,
                                   idempotency_key=f"payment:{payment.id}:cancel")
    except GatewayError as exc:
        if exc.retryable:
            raise
        return f"not cancelled: {exc.code}"  # already succeeded or canceled at the gateway
    return "cancelled"


# --- webhooks ------------------------------------------------------------------------------------


def handle_webhook(ctx: Context, payload: bytes, signature: str | None) -> str:
    """Verify, deduplicate and apply one gateway event; return what was done.

    Raises :class:`~totetaxi_payments.gateway.SignatureError` for a bad signature.
    """
    gw = gateway(ctx)
    event = gw.parse_webhook(payload, signature)
    db = ctx.dbsession
    if db.scalars(select(WebhookEventRecord.id)
                  .where(WebhookEventRecord.event_id == event.id)).first() is not None:
        return "duplicate"
    seen = WebhookEventRecord(gateway=gw.name, event_id=event.id, type=event.type,
                              created=event.created)
    db.add(seen)
    try:
        db.flush()
    except IntegrityError as exc:
        # The same event is being handled by a concurrent delivery: replay, then "duplicate".
        mark_error_retryable(exc)
        raise
    kind = event.type
    if kind.startswith("payment_intent."):
        outcome = _apply_intent_event(ctx, event.id, event.created, event.data)
    elif kind == "setup_intent.succeeded":
        outcome = _finish_setup(ctx, event.data)
    elif kind in ("refund.updated", "refund.created", "charge.refund.updated"):
        outcome = _apply_refund_event(ctx, event.id, event.data)
    else:
        outcome = "ignored"
    seen.outcome = outcome[:200]
    return outcome


def _failure(data: dict[str, Any]) -> tuple[str, str]:
    error = data.get("last_payment_error") or {}
    return (str(error.get("code") or error.get("decline_code") or "payment_failed"),
            str(error.get("message") or "The payment was not completed."))


def _apply_intent_event(ctx: Context, event_id: str, created: int,
                        data: dict[str, Any]) -> str:
    db = ctx.dbsession
    payment = db.scalars(select(Payment).where(Payment.gateway_intent_id == data.get("id"))
                         .with_for_update()).first()
    if payment is None:
        if int(time.time()) - created < ADOPT_AFTER_SECONDS:
            _unknown_but_ours(ctx, data, "booking_id", Booking)  # 503: probably not committed
            return "unknown intent"
        payment = _adopt(ctx, data, event_id)  # its request never committed: take it in
        if payment is None:
            return "unknown intent"
    status = str(data.get("status") or "")
    if status not in PaymentStatus.__members__.values():
        return f"unknown status {status}"
    booking = db.get(Booking, payment.booking_id)
    if (data.get("last_payment_error") and status == PaymentStatus.REQUIRES_PAYMENT_METHOD
            and payment.status != PaymentStatus.SUCCEEDED):
        # A failure counts once per event (events are deduplicated by id), whatever order it
        # arrives in; only the status change below depends on the order.
        return _failed(ctx, payment, booking, event_id, data,
                       apply_status=payment.status not in TERMINAL
                       and created >= payment.last_event_at)
    if payment.status == PaymentStatus.SUCCEEDED or (
            payment.status == PaymentStatus.CANCELED and status != PaymentStatus.SUCCEEDED):
        # Final states never move back: a late "failed" after "succeeded" changes nothing. A
        # success after we cancelled locally is money taken all the same: it is recorded.
        return f"stale: payment already {payment.status}"
    if created < payment.last_event_at and PaymentStatus(status) not in TERMINAL:
        return "stale: older than the last event applied"
    payment.last_event_at = max(payment.last_event_at, created)
    if status == PaymentStatus.SUCCEEDED:
        return _succeeded(ctx, payment, booking, event_id, data)
    _set_status(ctx, payment, status, source=event_id)
    return f"payment {status}"


class NotYetKnown(Exception):
    """An event about one of our objects that this database does not show yet (the request
    that created it has not committed): answered 503 and not recorded, so it comes again."""


def _unknown_but_ours(ctx: Context, data: dict[str, Any], key: str, model: Any) -> None:
    raw = (data.get("metadata") or {}).get(key)
    if not raw:
        return
    try:
        ours = ctx.dbsession.get(model, uuid.UUID(str(raw)))
    except ValueError:
        return
    if ours is not None:
        raise NotYetKnown(f"{data.get('id')} is not recorded yet")


def _adopt(ctx: Context, data: dict[str, Any], event_id: str) -> Payment | None:
    """An intent of one of our bookings whose creating request rolled back after the gateway
    call: record it now, flagged, so the money it moves is never lost from sight."""
    raw = (data.get("metadata") or {}).get("booking_id")
    try:
        booking = ctx.dbsession.get(Booking, uuid.UUID(str(raw))) if raw else None
    except ValueError:
        booking = None
    if booking is None:
        return None
    payment = Payment(
        id=uuid.uuid4(), booking_id=booking.id, customer_id=booking.customer_id,
        amount_cents=int(data.get("amount") or 0), currency=booking.currency,
        gateway=gateway(ctx).name, gateway_intent_id=str(data["id"]),
        status=PaymentStatus.REQUIRES_PAYMENT_METHOD, save_method=False, client_secret="",
        attempts=0, amount_received_cents=0, refund_held_cents=0, refunded_cents=0,
        last_event_at=0, failure_code="", failure_reason="", needs_attention=True)
    ctx.dbsession.add(payment)
    ctx.dbsession.flush()
    record(ctx, "payment.adopted", payment=payment, amount_cents=payment.amount_cents,
           source=event_id, note="An intent whose creating request never committed.")
    return payment


def _succeeded(ctx: Context, payment: Payment, booking: Booking, event_id: str,
               data: dict[str, Any]) -> str:
    payment.amount_received_cents = int(data.get("amount_received") or payment.amount_cents)
    payment.gateway_method_id = data.get("payment_method") or payment.gateway_method_id
    payment.succeeded_at = ctx.now()
    payment.failure_code = payment.failure_reason = ""
    _set_status(ctx, payment, PaymentStatus.SUCCEEDED, source=event_id)
    record(ctx, "payment.captured", payment=payment, amount_cents=payment.amount_received_cents,
           source=event_id)
    outcome = "payment succeeded"
    if payment.save_method and payment.customer_id and payment.gateway_method_id:
        _remember_method(ctx, payment.customer_id, payment.gateway_method_id,
                         data.get("customer"))
    if (booking.status == BookingStatus.PENDING_PAYMENT
            and payment.amount_received_cents >= booking.total_cents):
        # Even a payment we had replaced confirms the booking when it covers the total; the
        # other open payments of the booking are then cancelled.
        payment.needs_attention = False
        transition(ctx, booking, BookingStatus.CONFIRMED, "Payment received.")
        for other in ctx.dbsession.scalars(select(Payment).where(
                Payment.booking_id == booking.id, Payment.id != payment.id,
                Payment.status.in_(OPEN_STATUSES))):
            cancel_payment(ctx, other, "The booking was paid by another payment.")
        ctx.call_hook("totetaxi_payment_succeeded", payment=payment, booking=booking)
        return outcome + "; booking confirmed"
    # Money taken that confirms nothing: paid after the booking was cancelled, a payment we had
    # replaced (a re-price: it may be short), or a second payment. Staff refund or settle it;
    # no success event fires, so nobody is told "confirmed" for it.
    why = (f"the booking was {booking.status}" if booking.status != BookingStatus.PENDING_PAYMENT
           else f"{payment.amount_received_cents} cents received for a total of "
                f"{booking.total_cents}" if payment.amount_received_cents < booking.total_cents
           else "the payment had been replaced")
    payment.needs_attention = True
    record(ctx, "payment.needs_attention", payment=payment,
           amount_cents=payment.amount_received_cents, source=event_id,
           note=f"Payment succeeded but {why}; refund or settle it.")
    return outcome + f"; needs attention: {why}"


def _failed(ctx: Context, payment: Payment, booking: Booking, event_id: str,
            data: dict[str, Any], apply_status: bool = True) -> str:
    code, message = _failure(data)
    payment.attempts += 1
    if apply_status:
        payment.failure_code, payment.failure_reason = code[:60], message[:500]
        _set_status(ctx, payment, PaymentStatus.REQUIRES_PAYMENT_METHOD, source=event_id)
    record(ctx, "payment.failed", payment=payment, amount_cents=payment.amount_cents,
           source=event_id, detail={"code": code, "attempt": payment.attempts},
           note=message)
    ctx.dbsession.flush()  # the attempt just counted must be in the sum
    used = failures(ctx, booking.id)
    left = max(0, _max_attempts(ctx) - used) if booking.status == BookingStatus.PENDING_PAYMENT \
        else 0
    ctx.call_hook("totetaxi_payment_failed", payment=payment, booking=booking, reason=message,
                  attempts_left=left)
    stale = "" if apply_status else "stale: older than the state applied; "
    if used >= _max_attempts(ctx) and booking.status == BookingStatus.PENDING_PAYMENT:
        cancel_payment(ctx, payment, f"{used} failed payment attempts.")
        transition(ctx, booking, BookingStatus.CANCELLED,
                   f"Payment failed {used} times; the booking was cancelled.")
        return f"{stale}payment failed ({used}); booking cancelled"
    return f"{stale}payment failed ({used} of {_max_attempts(ctx)})"


# --- saved cards ---------------------------------------------------------------------------------


def _saved_method(ctx: Context, customer: Customer | None, raw_id: str,
                  field: str) -> SavedMethod:
    found = None
    if customer is not None:
        try:
            found = ctx.dbsession.get(SavedMethod, uuid.UUID(raw_id))
        except ValueError:
            found = None
    if found is None or found.customer_id != customer.id or found.deleted_at is not None:
        raise Refused(400, field, "None of your saved cards has this id.")
    return found


def _remember_method(ctx: Context, customer_id: uuid.UUID, method_id: str,
                     gateway_customer_id: str | None) -> SavedMethod | None:
    db = ctx.dbsession
    existing = db.scalars(select(SavedMethod).where(
        SavedMethod.customer_id == customer_id, SavedMethod.gateway_method_id == method_id,
        SavedMethod.deleted_at.is_(None))).first()
    if existing is not None:
        return existing
    card = gateway(ctx).retrieve_method(method_id)
    gw_customer = card.customer_id or gateway_customer_id or ""
    saved = SavedMethod(customer_id=customer_id, gateway=gateway(ctx).name,
                        gateway_customer_id=gw_customer, gateway_method_id=card.id,
                        brand=card.brand, last4=card.last4, exp_month=card.exp_month,
                        exp_year=card.exp_year)
    db.add(saved)
    record(ctx, "method.saved", detail={"customer_id": str(customer_id), "method": card.id,
                                        "brand": card.brand, "last4": card.last4})
    return saved


def start_setup(ctx: Context, customer: Customer) -> dict[str, str]:
    """Begin saving a card: a SetupIntent whose ``client_secret`` the site confirms."""
    gw = gateway(ctx)
    gateway_id = gateway_customer(ctx, customer)
    count = ctx.dbsession.scalar(select(func.count()).select_from(SetupAttempt)
                                 .where(SetupAttempt.customer_id == customer.id))
    setup = gw.create_setup_intent(gateway_id,
                                   idempotency_key=f"customer:{customer.id}:setup:{count + 1}")
    ctx.dbsession.add(SetupAttempt(customer_id=customer.id, gateway=gw.name,
                                   gateway_setup_id=setup.id, status=setup.status))
    return {"setup_intent_id": setup.id, "client_secret": setup.client_secret,
            "status": setup.status}


def _finish_setup(ctx: Context, data: dict[str, Any]) -> str:
    attempt = ctx.dbsession.scalars(select(SetupAttempt).where(
        SetupAttempt.gateway_setup_id == data.get("id"))).first()
    if attempt is None:
        return "unknown setup intent"
    attempt.status = "succeeded"
    method_id = data.get("payment_method")
    if not method_id:
        return "setup without a method"
    _remember_method(ctx, attempt.customer_id, str(method_id), data.get("customer"))
    return "card saved"


def remove_method(ctx: Context, saved: SavedMethod) -> None:
    """Detach the card at the gateway and forget it here."""
    try:
        gateway(ctx).detach_method(saved.gateway_method_id)
    except GatewayError as exc:
        if exc.code != "resource_missing":
            raise Refused(409, "payment_method", exc.message) from None
    saved.soft_delete()
    record(ctx, "method.removed", detail={"customer_id": str(saved.customer_id),
                                          "method": saved.gateway_method_id})


def methods_of(ctx: Context, customer_id: uuid.UUID) -> list[SavedMethod]:
    return list(ctx.dbsession.scalars(
        select(SavedMethod).where(SavedMethod.customer_id == customer_id)
        .order_by(SavedMethod.created_at.desc())))


# --- refunds -------------------------------------------------------------------------------------


def request_refund(ctx: Context, payment: Payment, amount_cents: int, reason: str) -> Refund:
    """Staff ask for a refund; the amount is held against the payment at once, so concurrent
    requests can never add up to more than was paid."""
    reason = " ".join((reason or "").split())
    if not isinstance(amount_cents, int) or isinstance(amount_cents, bool) or amount_cents < 1:
        raise Refused(400, "amount_cents", "amount_cents must be a whole number of cents, at "
                                           "least 1.")
    if not 3 <= len(reason) <= 500:
        raise Refused(400, "reason", "Give a reason of 3 to 500 characters.")
    if payment.status != PaymentStatus.SUCCEEDED:
        raise Refused(409, "payment_id", f"Only a succeeded payment can be refunded; this one "
                                         f"is {payment.status}.")
    held = ctx.dbsession.execute(
        update(Payment).where(Payment.id == payment.id,
                              Payment.refund_held_cents + amount_cents
                              <= Payment.amount_received_cents)
        .values(refund_held_cents=Payment.refund_held_cents + amount_cents)
        .execution_options(synchronize_session=False))
    if held.rowcount != 1:
        ctx.dbsession.refresh(payment)
        raise Refused(409, "amount_cents", f"At most {payment.refundable_cents} cents of this "
                                           "payment can still be refunded.")
    ctx.dbsession.refresh(payment)
    refund = Refund(id=uuid.uuid4(), payment_id=payment.id, booking_id=payment.booking_id,
                    amount_cents=amount_cents, reason=reason, status=RefundStatus.REQUESTED,
                    requested_by=ctx.actor.id)
    ctx.dbsession.add(refund)
    ctx.dbsession.flush()
    record(ctx, "refund.requested", refund=refund, amount_cents=amount_cents,
           new_status=refund.status, note=reason)
    record_audit(ctx, "payments.refund_requested", "refund", refund.id,
                 after={"payment_id": str(payment.id), "amount_cents": amount_cents,
                        "reason": reason})
    return refund


def _claim(ctx: Context, refund: Refund, new: RefundStatus) -> None:
    """Move a refund out of ``requested`` once: a concurrent decision gets 409."""
    moved = ctx.dbsession.execute(
        update(Refund).where(Refund.id == refund.id, Refund.status == RefundStatus.REQUESTED)
        .values(status=new, decided_by=ctx.actor.id, decided_at=ctx.now())
        .execution_options(synchronize_session=False))
    if moved.rowcount != 1:
        ctx.dbsession.refresh(refund)
        raise Refused(409, "status", f"This refund is already {refund.status}.")
    ctx.dbsession.refresh(refund)


def _release_hold(ctx: Context, refund: Refund) -> None:
    ctx.dbsession.execute(
        update(Payment).where(Payment.id == refund.payment_id)
        .values(refund_held_cents=Payment.refund_held_cents - refund.amount_cents)
        .execution_options(synchronize_session=False))


def reject_refund(ctx: Context, refund: Refund, note: str) -> Refund:
    _claim(ctx, refund, RefundStatus.REJECTED)
    refund.decision_note = note[:500]
    _release_hold(ctx, refund)
    record(ctx, "refund.rejected", refund=refund, amount_cents=refund.amount_cents,
           old_status=RefundStatus.REQUESTED, new_status=RefundStatus.REJECTED, note=note)
    record_audit(ctx, "payments.refund_rejected", "refund", refund.id,
                 before={"status": "requested"}, after={"status": "rejected", "note": note})
    return refund


def approve_refund(ctx: Context, refund: Refund, note: str = "") -> Refund:
    """An admin approves: the gateway refunds (idempotent by the refund's id)."""
    _claim(ctx, refund, RefundStatus.PENDING)
    refund.decision_note = note[:500]
    payment = ctx.dbsession.get(Payment, refund.payment_id)
    record_audit(ctx, "payments.refund_approved", "refund", refund.id,
                 before={"status": "requested"},
                 after={"status": "pending", "amount_cents": refund.amount_cents})
    record(ctx, "refund.approved", refund=refund, amount_cents=refund.amount_cents,
           old_status=RefundStatus.REQUESTED, new_status=RefundStatus.PENDING, note=note)
    return _send_refund(ctx, refund, payment, retry_later=True)


def _send_refund(ctx: Context, refund: Refund, payment: Payment, retry_later: bool) -> Refund:
    try:
        result = gateway(ctx).refund(payment.gateway_intent_id, refund.amount_cents,
                                     idempotency_key=f"refund:{refund.id}",
                                     reason="requested_by_customer",
                                     metadata={"refund_id": str(refund.id)})
    except GatewayError as exc:
        if not exc.retryable:
            _refund_failed(ctx, refund, exc.message, "")
            return refund
        if not retry_later:
            raise
        # The gateway may or may not have refunded: the approval stands ("pending") and a task
        # asks again with the same key until the gateway answers; it never refunds twice.
        refund.failure_reason = f"Gateway unreachable, retrying: {exc.message}"[:500]
        ctx.enqueue(REFUND_TASK, str(refund.id))
        return refund
    refund.gateway_refund_id = result.id
    refund.failure_reason = ""
    if result.status == "succeeded":
        _refund_succeeded(ctx, refund, payment, "")
    elif result.status in ("failed", "canceled"):
        _refund_failed(ctx, refund, result.failure_reason or result.status, "")
    return refund


def refund_task(ctx: Context, refund_id: str) -> str:
    """Background: send an approved refund the gateway did not answer for (same key)."""
    refund = ctx.dbsession.get(Refund, uuid.UUID(refund_id))
    if refund is None or refund.status != RefundStatus.PENDING or refund.gateway_refund_id:
        return "nothing to do"
    _send_refund(ctx, refund, ctx.dbsession.get(Payment, refund.payment_id), retry_later=False)
    return str(refund.status)


def _refund_succeeded(ctx: Context, refund: Refund, payment: Payment, source: str) -> None:
    refund.status = RefundStatus.SUCCEEDED
    refund.completed_at = ctx.now()
    # Atomic: two refunds of one payment completing at once must both count.
    ctx.dbsession.execute(
        update(Payment).where(Payment.id == payment.id)
        .values(refunded_cents=Payment.refunded_cents + refund.amount_cents)
        .execution_options(synchronize_session=False))
    ctx.dbsession.refresh(payment)
    record(ctx, "refund.succeeded", refund=refund, amount_cents=refund.amount_cents,
           old_status=RefundStatus.PENDING, new_status=RefundStatus.SUCCEEDED, source=source)
    booking = ctx.dbsession.get(Booking, refund.booking_id)
    record_event(ctx, booking, booking.status,
                 f"Refund of {format_money(refund.amount_cents, payment.currency)} issued.")
    ctx.call_hook("totetaxi_refund_completed", refund=refund, payment=payment, booking=booking)


def _refund_failed(ctx: Context, refund: Refund, why: str, source: str) -> None:
    old = refund.status
    refund.status = RefundStatus.FAILED
    refund.failure_reason = why[:500]
    _release_hold(ctx, refund)
    record(ctx, "refund.failed", refund=refund, amount_cents=refund.amount_cents,
           old_status=old, new_status=RefundStatus.FAILED, source=source, note=why)


def _match_refund_by_metadata(ctx: Context, data: dict[str, Any]) -> Refund | None:
    raw = (data.get("metadata") or {}).get("refund_id")
    try:
        return ctx.dbsession.get(Refund, uuid.UUID(str(raw))) if raw else None
    except ValueError:
        return None


def _apply_refund_event(ctx: Context, event_id: str, data: dict[str, Any]) -> str:
    refund = ctx.dbsession.scalars(select(Refund).where(
        Refund.gateway_refund_id == data.get("id")).with_for_update()).first()
    if refund is None:
        found = _match_refund_by_metadata(ctx, data)
        if found is None:
            return "unknown refund"
        refund = found
    if refund.status == RefundStatus.REQUESTED and data.get("status") == "succeeded":
        # The gateway refunded although our approval rolled back: the money went; record it.
        refund.status = RefundStatus.PENDING
        refund.gateway_refund_id = str(data.get("id"))
    if refund.status != RefundStatus.PENDING:
        return f"refund already {refund.status}"
    status = data.get("status")
    if status == "succeeded":
        _refund_succeeded(ctx, refund, ctx.dbsession.get(Payment, refund.payment_id), event_id)
        return "refund succeeded"
    if status in ("failed", "canceled"):
        _refund_failed(ctx, refund, str(data.get("failure_reason") or status), event_id)
        return "refund failed"
    return f"refund {status}"


# --- reading -------------------------------------------------------------------------------------


def payment_json(payment: Payment, for_payer: bool = True) -> dict[str, Any]:
    """A payment as the API shows it; ``client_secret`` only to the payer, while it is open."""
    secret = payment.client_secret if for_payer and payment.status in OPEN_STATUSES else None
    return {
        "payment_id": str(payment.id), "booking_id": str(payment.booking_id),
        "status": str(payment.status), "amount_cents": payment.amount_cents,
        "currency": payment.currency, "client_secret": secret,
        "needs_attention": payment.needs_attention,
        "attempts": payment.attempts, "failure_code": payment.failure_code or None,
        "failure_reason": payment.failure_reason or None,
        "amount_received_cents": payment.amount_received_cents,
        "refunded_cents": payment.refunded_cents,
        "refundable_cents": payment.refundable_cents, "gateway": payment.gateway,
        "created_at": payment.created_at.isoformat(),
    }


def refund_json(refund: Refund) -> dict[str, Any]:
    return {
        "id": str(refund.id), "payment_id": str(refund.payment_id),
        "booking_id": str(refund.booking_id), "amount_cents": refund.amount_cents,
        "reason": refund.reason, "status": str(refund.status),
        "requested_by": str(refund.requested_by),
        "decided_by": str(refund.decided_by) if refund.decided_by else None,
        "decision_note": refund.decision_note, "failure_reason": refund.failure_reason or None,
        "created_at": refund.created_at.isoformat(),
        "completed_at": refund.completed_at.isoformat() if refund.completed_at else None,
    }


def method_json(saved: SavedMethod) -> dict[str, Any]:
    return {"id": str(saved.id), "brand": saved.brand, "last4": saved.last4,
            "exp_month": saved.exp_month, "exp_year": saved.exp_year,
            "created_at": saved.created_at.isoformat()}


def payments_of(ctx: Context, booking_id: uuid.UUID) -> list[Payment]:
    return list(ctx.dbsession.scalars(select(Payment).where(Payment.booking_id == booking_id)
                                      .order_by(Payment.created_at)))


def refunds_of(ctx: Context, booking_id: uuid.UUID) -> list[Refund]:
    return list(ctx.dbsession.scalars(select(Refund).where(Refund.booking_id == booking_id)
                                      .order_by(Refund.created_at)))
