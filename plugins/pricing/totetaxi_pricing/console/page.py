"""What every pricing console page shares: the permission, the messages, a refused form, the
redirect after a change, and one row's edit form (a package, a specialty item, a surcharge)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.request import Request

from totetaxi_core.plugin_api import Fields, InvalidDraft, field_of, get_or_404, read_form

from ..models import PricingPolicy
from ..permissions import PricingPermission
from ..quoting import dollars
from .fields import differs

#: The permission of every change (the manifest grants it to admins).
EDIT = PricingPermission.EDIT
TEMPLATES = "totetaxi_pricing:templates/"
CATALOG = TEMPLATES + "catalog.jinja2"
SURCHARGES = TEMPLATES + "surcharges.jinja2"
CAPACITY = TEMPLATES + "capacity.jinja2"

#: One-shot messages after a change: the query carries a code, never text (nothing reflected).
MESSAGES: dict[str, str] = {
    "package_saved": "Package saved; quotes use it from now on.",
    "rates_saved": "Rates saved; quotes use them from now on.",
    "specialty_saved": "Specialty item saved; quotes use it from now on.",
    "surcharge_saved": "Surcharge rule saved; quotes use it from now on.",
    "peak_added": "Peak range added.",
    "peak_removed": "Peak range removed.",
    "capacity_saved": "Capacity of the day saved.",
    "defaults_saved": "Default capacity saved.",
    "unchanged": "Nothing changed: the values were already those.",
}


class Failed:
    """A refused form: which one, what was typed, and the message of each field at fault."""

    def __init__(self, form: str, submitted: dict[str, str], errors: dict[str, str]) -> None:
        self.form = form
        self.submitted = submitted
        self.errors = errors


def forms_of(shown: dict[str, dict[str, str]], failed: Failed | None) -> dict[str, Any]:
    """Every form's field values (the typed ones for the refused form) and its errors."""
    errors: dict[str, dict[str, str]] = {key: {} for key in shown}
    if failed is not None:
        shown.setdefault(failed.form, {}).update(failed.submitted)
        errors[failed.form] = failed.errors
    return {"values": shown, "errors": errors, "failed": failed.form if failed else None}


def base(request: Request, status: int) -> dict[str, Any]:
    request.response.status_int = status
    return {
        "can_edit": request.has_permission(EDIT),
        "message": MESSAGES.get(request.GET.get("done", "")),
        "dollars": dollars,
    }


def done(
    request: Request, route: str, code: str, anchor: str | None = None, **query: str
) -> HTTPSeeOther:
    return HTTPSeeOther(
        location=request.route_url(route, _query={**query, "done": code}, _anchor=anchor or "")
    )


def policy_row(request: Request) -> PricingPolicy:
    policy = get_or_404(request.dbsession, PricingPolicy, 1)
    return policy  # the seed always writes it


def edit_row(
    request: Request,
    model: type,
    fields: Fields,
    key: str,
    edit: Callable[..., None],
    render: Callable[..., dict[str, Any]],
    route: str,
    saved: str,
) -> Any:
    """One row's form (a package, a specialty item, a surcharge rule): refused or saved.

    Fields left out of the POST stay as they are; the page's forms send them all.
    """
    code = request.matchdict["code"]
    row = get_or_404(request.dbsession, model, code)
    form = f"{key}-{code}"
    values, errors, submitted = read_form(request.POST, fields, partial=True)
    if errors:
        return render(request, Failed(form, submitted, errors), 400)
    changed = differs(row, values)
    try:
        edit(request.ctx, code, **values)
    except InvalidDraft as exc:
        return render(
            request, Failed(form, submitted, {field_of(fields, exc.field): exc.description}), 400
        )
    return done(request, route, saved if changed else "unchanged", form)
