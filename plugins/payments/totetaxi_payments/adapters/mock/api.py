"""The mock's own routes: what Stripe.js would do in the customer's browser (test cards, the
3-D Secure challenge)."""

from __future__ import annotations

import uuid
from typing import Any

from cornice import Service
from cornice.validators import colander_body_validator
from pyramid.config import Configurator
from pyramid.httpexceptions import HTTPForbidden, HTTPNotFound
from pyramid.request import Request
from pyramid.security import NO_PERMISSION_REQUIRED
from sqlalchemy import select

from totetaxi_core.plugin_api import (
    API_PREFIX,
    Booking,
    Permission,
    Refused,
    answers,
    strict,
    token_matches,
)

from ...interfaces import TEST_METHODS, GatewayError
from ...models import Payment, SetupAttempt
from .gateway import MockGateway, webhook_secret
from .schemas import AuthenticateBody, AuthenticateOut, ConfirmBody, ConfirmOut

#: The mock's own refusals (a guest adds ``?token=<tracking_token>`` to reach their payment).
MOCK_ERRORS = {
    403: "A staff viewer may not pay.",
    404: "No such payment or setup intent, or not the caller's.",
    409: "The gateway refused (the payment is not in a state to do this).",
}

confirm = Service(
    name="payments_mock_confirm",
    path=API_PREFIX + "/payments/mock/confirm",
    description="Pay (or save a card) with a Stripe test card number",
)
authenticate = Service(
    name="payments_mock_authenticate",
    path=API_PREFIX + "/payments/mock/authenticate",
    description="Answer the 3-D Secure challenge of a test card",
)


def _payment_for(request: Request, raw_id: str | None) -> Payment:
    """A payment the caller may act on: its booking's owner, a guest with ``?token=``, staff."""
    payment = None
    try:
        payment = request.dbsession.get(Payment, uuid.UUID(raw_id or ""))
    except ValueError:
        payment = None
    booking = request.dbsession.get(Booking, payment.booking_id) if payment else None
    identity = request.identity
    if booking is not None and identity is not None and identity.is_staff:
        # Paying moves money and, after repeated declines, cancels the booking: a staff
        # member acting here needs write permission, and a viewer has none.
        if not request.has_permission(Permission.STAFF_WRITE):
            raise HTTPForbidden("Paying for a booking needs staff write permission.")
    allowed = booking is not None and (
        (identity is not None and identity.is_staff)
        or (
            identity is not None
            and identity.is_customer
            and booking.customer_id == identity.principal.id
        )
        or (booking.customer_id is None and token_matches(booking, request.GET.get("token")))
    )
    if not allowed:
        raise HTTPNotFound(f"No payment with id {raw_id}.")
    return payment


def _method_for(card_number: str) -> str:
    digits = card_number.replace(" ", "").replace("-", "")
    if digits not in TEST_METHODS:
        raise Refused(
            400,
            "card_number",
            "Use one of Stripe's test cards: 4242 4242 4242 4242 "
            "(succeeds), 4000 0000 0000 0002 (declined), "
            "4000 0025 0000 3155 (asks for authentication).",
        )
    return TEST_METHODS[digits]


def _gateway(request: Request) -> MockGateway:
    return MockGateway(request.ctx, webhook_secret(request.registry.settings))


@confirm.post(
    schema=strict(ConfirmBody),
    validators=(colander_body_validator,),
    permission=NO_PERMISSION_REQUIRED,
    response_schemas=answers(200, ConfirmOut(), "Charged (or the card saved).", errors=MOCK_ERRORS),
)
def confirm_view(request: Request) -> dict[str, Any]:
    """Charge a payment (``payment_id``) or save a card (``setup_intent_id``) with a test card."""
    body = request.validated
    if (body["payment_id"] is None) == (body["setup_intent_id"] is None):
        raise Refused(
            400,
            "payment_id",
            "Send payment_id (to pay) or setup_intent_id (to save a card), one of them.",
        )
    method = _method_for(body["card_number"])
    gw = _gateway(request)
    if body["setup_intent_id"] is not None:
        identity = request.identity
        attempt = request.dbsession.scalars(
            select(SetupAttempt).where(SetupAttempt.gateway_setup_id == body["setup_intent_id"])
        ).first()
        if (
            attempt is None
            or identity is None
            or not identity.is_customer
            or (attempt.customer_id != identity.principal.id)
        ):
            raise HTTPNotFound(f"No setup intent {body['setup_intent_id']}.")
        setup = _call(
            lambda: gw.confirm_setup_intent(
                attempt.gateway_setup_id,
                payment_method_id=method,
                idempotency_key=f"mock-setup:{attempt.id}:{method}",
            )
        )
        return {"setup_intent_id": setup.id, "status": setup.status}
    payment = _payment_for(request, body["payment_id"])
    intent = _call(
        lambda: gw.confirm_intent(
            payment.gateway_intent_id,
            payment_method_id=method,
            idempotency_key=f"mock-confirm:{payment.id}:{uuid.uuid4()}",
        )
    )
    return {
        "payment_id": str(payment.id),
        "status": intent.status,
        "failure_code": intent.failure_code,
        "failure_message": intent.failure_message,
    }


@authenticate.post(
    schema=strict(AuthenticateBody),
    validators=(colander_body_validator,),
    permission=NO_PERMISSION_REQUIRED,
    response_schemas=answers(200, AuthenticateOut(), "The challenge answered.", errors=MOCK_ERRORS),
)
def authenticate_view(request: Request) -> dict[str, Any]:
    """Pass (or fail) the authentication a 3155 card asked for."""
    payment = _payment_for(request, request.validated["payment_id"])
    intent = _call(
        lambda: _gateway(request).authenticate(
            payment.gateway_intent_id, request.validated["succeed"]
        )
    )
    return {"payment_id": str(payment.id), "status": intent.status}


def _call(work: Any) -> Any:
    try:
        return work()
    except GatewayError as exc:
        raise Refused(409, "payment_id", exc.message) from None


def includeme(config: Configurator) -> None:
    config.scan(__name__)
