"""The surcharges page: the weekend, holiday and peak rules, and the peak date ranges."""

from __future__ import annotations

import datetime as dt
from typing import Any

import holidays
from pyramid.request import Request
from pyramid.view import view_config
from sqlalchemy import select

from totetaxi_core.plugin_api import (
    InvalidDraft,
    Permission,
    field_of,
    get_or_404,
    local_today,
    read_form,
)

from .. import services
from ..models import PeakRange, SurchargeRule
from .fields import PEAK_FIELDS, SURCHARGE_FIELDS, flag, percent
from .page import EDIT, SURCHARGES, Failed, base, done, edit_row, forms_of


def _surcharges(
    request: Request, failed: Failed | None = None, status: int = 200
) -> dict[str, Any]:
    rules = request.dbsession.scalars(select(SurchargeRule).order_by(SurchargeRule.code)).all()
    order = {"weekend": 0, "holiday": 1, "peak": 2}
    rules = sorted(rules, key=lambda r: (order.get(r.code, 9), r.code))
    peaks = request.dbsession.scalars(
        select(PeakRange).order_by(PeakRange.start_date, PeakRange.end_date)
    ).all()
    today = local_today(request.ctx.now())
    shown: dict[str, dict[str, str]] = {
        f"rule-{r.code}": {"percent": percent(r.percent_bp), "active": flag(r.active)}
        for r in rules
    }
    shown["peak-add"] = {"name": "", "start_date": "", "end_date": ""}
    upcoming = sorted(
        (day, name)
        for day, name in holidays.country_holidays("US", years=(today.year, today.year + 1)).items()
        if today <= day <= today + dt.timedelta(days=365)
    )
    return {
        **base(request, status),
        **forms_of(shown, failed),
        "rules": rules,
        "peaks": peaks,
        "today": today,
        "holidays": upcoming,
        "percent": percent,
    }


@view_config(
    route_name="pricing_surcharges",
    request_method="GET",
    renderer=SURCHARGES,
    permission=Permission.STAFF_READ,
)
def surcharges_page(request: Request) -> dict[str, Any]:
    """Surcharge rules (weekend, holiday, peak) and the peak date ranges."""
    return _surcharges(request)


@view_config(
    route_name="pricing_surcharge", request_method="POST", renderer=SURCHARGES, permission=EDIT
)
def surcharge_edit(request: Request) -> Any:
    return edit_row(
        request,
        SurchargeRule,
        SURCHARGE_FIELDS,
        "rule",
        services.edit_surcharge,
        _surcharges,
        "pricing_surcharges",
        "surcharge_saved",
    )


@view_config(
    route_name="pricing_peaks", request_method="POST", renderer=SURCHARGES, permission=EDIT
)
def peak_add(request: Request) -> Any:
    values, errors, submitted = read_form(request.POST, PEAK_FIELDS)
    if not errors and values["end"] < values["start"]:
        errors["end_date"] = "End date: the range cannot end before it starts."
    if errors:
        return _surcharges(request, Failed("peak-add", submitted, errors), 400)
    try:
        services.add_peak(request.ctx, values["name"], values["start"], values["end"])
    except InvalidDraft as exc:
        return _surcharges(
            request,
            Failed("peak-add", submitted, {field_of(PEAK_FIELDS, exc.field): exc.description}),
            400,
        )
    return done(request, "pricing_surcharges", "peak_added", "peaks")


@view_config(
    route_name="pricing_peak_remove", request_method="POST", renderer=SURCHARGES, permission=EDIT
)
def peak_remove(request: Request) -> Any:
    peak = get_or_404(request.dbsession, PeakRange, request.matchdict["id"])
    services.remove_peak(request.ctx, peak.id)
    return done(request, "pricing_surcharges", "peak_removed", "peaks")
