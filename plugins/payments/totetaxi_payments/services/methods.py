"""Saved cards: setting one up, remembering it after a payment, removing it."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select

from totetaxi_core.plugin_api import Context, Customer, Refused

from ..interfaces import GatewayError
from ..models import SavedMethod, SetupAttempt
from .plumbing import gateway, gateway_customer, record


def saved_method(ctx: Context, customer: Customer | None, raw_id: str, field: str) -> SavedMethod:
    found = None
    if customer is not None:
        try:
            found = ctx.dbsession.get(SavedMethod, uuid.UUID(raw_id))
        except ValueError:
            found = None
    if found is None or found.customer_id != customer.id or found.deleted_at is not None:
        raise Refused(400, field, "None of your saved cards has this id.")
    return found


def remember_method(
    ctx: Context, customer_id: uuid.UUID, method_id: str, gateway_customer_id: str | None
) -> SavedMethod | None:
    db = ctx.dbsession
    existing = db.scalars(
        select(SavedMethod).where(
            SavedMethod.customer_id == customer_id,
            SavedMethod.gateway_method_id == method_id,
            SavedMethod.deleted_at.is_(None),
        )
    ).first()
    if existing is not None:
        return existing
    card = gateway(ctx).retrieve_method(method_id)
    gw_customer = card.customer_id or gateway_customer_id or ""
    saved = SavedMethod(
        customer_id=customer_id,
        gateway=gateway(ctx).name,
        gateway_customer_id=gw_customer,
        gateway_method_id=card.id,
        brand=card.brand,
        last4=card.last4,
        exp_month=card.exp_month,
        exp_year=card.exp_year,
    )
    db.add(saved)
    record(
        ctx,
        "method.saved",
        detail={
            "customer_id": str(customer_id),
            "method": card.id,
            "brand": card.brand,
            "last4": card.last4,
        },
    )
    return saved


def start_setup(ctx: Context, customer: Customer) -> dict[str, str]:
    """Begin saving a card: a SetupIntent whose ``client_secret`` the site confirms."""
    gw = gateway(ctx)
    gateway_id = gateway_customer(ctx, customer)
    count = ctx.dbsession.scalar(
        select(func.count())
        .select_from(SetupAttempt)
        .where(SetupAttempt.customer_id == customer.id)
    )
    setup = gw.create_setup_intent(
        gateway_id, idempotency_key=f"customer:{customer.id}:setup:{count + 1}"
    )
    ctx.dbsession.add(
        SetupAttempt(
            customer_id=customer.id, gateway=gw.name, gateway_setup_id=setup.id, status=setup.status
        )
    )
    return {
        "setup_intent_id": setup.id,
        "client_secret": setup.client_secret,
        "status": setup.status,
    }


def finish_setup(ctx: Context, data: dict[str, Any]) -> str:
    attempt = ctx.dbsession.scalars(
        select(SetupAttempt).where(SetupAttempt.gateway_setup_id == data.get("id"))
    ).first()
    if attempt is None:
        return "unknown setup intent"
    attempt.status = "succeeded"
    method_id = data.get("payment_method")
    if not method_id:
        return "setup without a method"
    remember_method(ctx, attempt.customer_id, str(method_id), data.get("customer"))
    return "card saved"


def remove_method(ctx: Context, saved: SavedMethod) -> None:
    """Detach the card at the gateway and forget it here."""
    try:
        gateway(ctx).detach_method(saved.gateway_method_id)
    except GatewayError as exc:
        if exc.code != "resource_missing":
            raise Refused(409, "payment_method", exc.message) from None
    saved.soft_delete()
    record(
        ctx,
        "method.removed",
        detail={"customer_id": str(saved.customer_id), "method": saved.gateway_method_id},
    )


def methods_of(ctx: Context, customer_id: uuid.UUID) -> list[SavedMethod]:
    return list(
        ctx.dbsession.scalars(
            select(SavedMethod)
            .where(SavedMethod.customer_id == customer_id)
            .order_by(SavedMethod.created_at.desc())
        )
    )
