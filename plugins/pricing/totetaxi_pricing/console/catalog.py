"""The catalog page: Mini Move packages, rates (standard delivery, the minimum charge of every
booking, fees) and specialty items."""

from __future__ import annotations

from typing import Any

from pyramid.request import Request
from pyramid.view import view_config
from sqlalchemy import select

from totetaxi_core.plugin_api import Permission, read_form

from .. import services
from ..models import MiniMovePackage, SpecialtyItem
from .fields import PACKAGE_FIELDS, RATE_FIELDS, SPECIALTY_FIELDS, amount, differs, flag
from .page import CATALOG, EDIT, Failed, base, done, edit_row, forms_of, policy_row


def _catalog(request: Request, failed: Failed | None = None, status: int = 200) -> dict[str, Any]:
    packages = request.dbsession.scalars(
        select(MiniMovePackage).order_by(MiniMovePackage.sort_order, MiniMovePackage.code)
    ).all()
    specialty = request.dbsession.scalars(
        select(SpecialtyItem).order_by(SpecialtyItem.sort_order, SpecialtyItem.code)
    ).all()
    policy = policy_row(request)
    shown: dict[str, dict[str, str]] = {}
    for p in packages:
        shown[f"package-{p.code}"] = {
            "name": p.name,
            "price": amount(p.price_cents),
            "max_items": str(p.max_items),
            "active": flag(p.active),
        }
    for s in specialty:
        shown[f"specialty-{s.code}"] = {
            "name": s.name,
            "price": amount(s.price_cents),
            "active": flag(s.active),
        }
    shown["rates"] = {
        "per_item": amount(policy.per_item_cents),
        "minimum": amount(policy.minimum_cents),
        "booking_minimum": amount(policy.booking_minimum_cents),
        "same_day_flat": amount(policy.same_day_flat_cents),
        "same_day_included_items": str(policy.same_day_included_items),
        "same_day_cutoff_hour": str(policy.same_day_cutoff_hour),
        "coi_fee": amount(policy.coi_fee_cents),
        "high_value": amount(policy.high_value_cents),
    }
    return {
        **base(request, status),
        **forms_of(shown, failed),
        "packages": packages,
        "specialty": specialty,
        "policy": policy,
    }


@view_config(
    route_name="pricing_catalog",
    request_method="GET",
    renderer=CATALOG,
    permission=Permission.STAFF_READ,
)
def catalog_page(request: Request) -> dict[str, Any]:
    """Mini Move packages, standard delivery rates and specialty items."""
    return _catalog(request)


@view_config(route_name="pricing_package", request_method="POST", renderer=CATALOG, permission=EDIT)
def package_edit(request: Request) -> Any:
    return edit_row(
        request,
        MiniMovePackage,
        PACKAGE_FIELDS,
        "package",
        services.edit_package,
        _catalog,
        "pricing_catalog",
        "package_saved",
    )


@view_config(
    route_name="pricing_specialty", request_method="POST", renderer=CATALOG, permission=EDIT
)
def specialty_edit(request: Request) -> Any:
    return edit_row(
        request,
        SpecialtyItem,
        SPECIALTY_FIELDS,
        "specialty",
        services.edit_specialty,
        _catalog,
        "pricing_catalog",
        "specialty_saved",
    )


@view_config(route_name="pricing_rates", request_method="POST", renderer=CATALOG, permission=EDIT)
def rates_edit(request: Request) -> Any:
    values, errors, submitted = read_form(request.POST, RATE_FIELDS, partial=True)
    if errors:
        return _catalog(request, Failed("rates", submitted, errors), 400)
    changed = differs(policy_row(request), values)
    services.edit_policy(request.ctx, **values)
    return done(request, "pricing_catalog", "rates_saved" if changed else "unchanged", "rates")
