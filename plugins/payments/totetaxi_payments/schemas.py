"""Bodies of the payments API."""

from __future__ import annotations

import colander

from totetaxi_core.plugin_api import (
    CleanString,
    StrictBoolean,
    StrictInteger,
    flag,
    listing,
    moment,
    text,
    whole,
)


class PayBody(colander.MappingSchema):
    """``POST /bookings/{id}/payments``: the amount is the booking's; none is accepted."""

    #: Shown in the API document: pay with a new card, and keep it for next time.
    example = {"save_method": True}

    payment_method_id = colander.SchemaNode(CleanString(), missing=None)
    save_method = colander.SchemaNode(StrictBoolean(), missing=False)


#: The answer to :attr:`PayBody.example`, for the API document: confirm ``client_secret`` with
#: the gateway's card form (Stripe.js; the mock gateway's POST /payments/mock/confirm).
PAYMENT_EXAMPLE = {
    "payment_id": "06b0596f-af95-4720-98a4-24213a7cc90c",
    "booking_id": "c5a57b69-bebf-4978-8d22-ecc28f4cf3f4",
    "status": "requires_payment_method",
    "amount_cents": 99500,
    "currency": "USD",
    "client_secret": "pi_3QxExample_secret_b84d4449f02e25e2",
    "needs_attention": False,
    "attempts": 0,
    "failure_code": None,
    "failure_reason": None,
    "amount_received_cents": 0,
    "refunded_cents": 0,
    "refundable_cents": 0,
    "gateway": "stripe",
    "created_at": "2026-11-23T15:02:11+00:00",
}


class RefundBody(colander.MappingSchema):
    payment_id = colander.SchemaNode(CleanString())
    amount_cents = colander.SchemaNode(
        StrictInteger(),
        validator=colander.Range(1, 10_000_000, min_err="amount_cents must be at least 1 cent."),
    )
    reason = colander.SchemaNode(CleanString(), validator=colander.Length(min=3, max=500))


class DecisionBody(colander.MappingSchema):
    note = colander.SchemaNode(CleanString(), validator=colander.Length(max=500), missing="")


class ApproveBody(DecisionBody):
    """Approve a refund; ``amount_cents`` below the request approves less (``note`` says why)."""

    amount_cents = colander.SchemaNode(
        StrictInteger(), validator=colander.Range(1, 10_000_000), missing=None
    )


# --- answers (response bodies for the OpenAPI document; open objects) --------------------------


class PaymentOut(colander.MappingSchema):
    """A payment; ``client_secret`` only to the payer while it is open (else null)."""

    payment_id = text()
    booking_id = text()
    status = text()
    amount_cents = whole()
    currency = text()
    client_secret = text(null=True)
    needs_attention = flag()
    attempts = whole()
    failure_code = text(null=True)
    failure_reason = text(null=True)
    amount_received_cents = whole()
    refunded_cents = whole()
    refundable_cents = whole()
    gateway = text()
    created_at = moment()


class PaymentsOut(colander.MappingSchema):
    """A booking's payments, oldest first."""

    items = listing(PaymentOut())
    balance_cents = whole()


class WebhookOut(colander.MappingSchema):
    """What the event did (a repeated event: nothing)."""

    received = flag()
    outcome = text()


class SavedMethodOut(colander.MappingSchema):
    """A saved card: never its number."""

    id = text()
    brand = text()
    last4 = text()
    exp_month = whole()
    exp_year = whole()
    created_at = moment()


class SavedMethodsOut(colander.MappingSchema):
    """The customer's saved cards."""

    items = listing(SavedMethodOut())


class SetupOut(colander.MappingSchema):
    """A setup intent for the site to confirm; the webhook then stores the card."""

    setup_intent_id = text()
    client_secret = text()
    status = text()


class RefundOut(colander.MappingSchema):
    """A refund and where it stands."""

    id = text()
    payment_id = text()
    booking_id = text()
    amount_cents = whole()
    reason = text()
    status = text()
    source = text(validator=colander.OneOf(("staff", "policy")))
    requested_by = text(null=True)
    decided_by = text(null=True)
    decision_note = text()
    failure_reason = text(null=True)
    created_at = moment()
    completed_at = moment(null=True)
