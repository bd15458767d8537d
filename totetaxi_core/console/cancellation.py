"""The cancellation policy page: every staff role reads it, admins change it (audited).

New bookings take the policy in force when they are quoted (it is kept in their quote); a change
here never reaches a booking already made.
"""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.request import Request
from pyramid.view import view_config

from .. import audit
from ..bookings.cancellation import current_policy, parse_tiers, replace_policy
from ..identity.permissions import Permission
from .helpers import flash

TEMPLATE = "totetaxi_core:console/templates/cancellation.jinja2"
ROWS = 6  # tiers the form offers (empty ones are ignored)


def _page(
    request: Request,
    rows: list[tuple[str, str]] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> dict[str, Any]:
    policy = current_policy(request.ctx)
    if rows is None:
        rows = [(str(t.hours_before), str(t.refund_percent)) for t in policy.tiers]
    rows = rows + [("", "")] * max(ROWS - len(rows), 0)
    request.response.status_int = status
    return {
        "policy": policy.describe(),
        "rows": rows,
        "errors": errors or {},
        "message": flash(request),
        "can_edit": request.has_permission(Permission.ADMIN),
    }


@view_config(
    route_name="console_cancellation",
    request_method="GET",
    renderer=TEMPLATE,
    permission=Permission.STAFF_READ,
)
def cancellation_page(request: Request) -> dict[str, Any]:
    return _page(request)


@view_config(
    route_name="console_cancellation",
    request_method="POST",
    renderer=TEMPLATE,
    permission=Permission.ADMIN,
)
def cancellation_save(request: Request) -> Any:
    rows = [
        (request.POST.get(f"hours_{i}", "")[:10], request.POST.get(f"percent_{i}", "")[:10])
        for i in range(ROWS)
    ]
    tiers, errors = parse_tiers(rows)
    if errors:
        return _page(request, rows, errors, status=400)
    before = current_policy(request.ctx).describe()["tiers"]
    replace_policy(request.ctx, tiers)
    audit.record(
        request.ctx,
        "cancellation_policy.updated",
        "cancellation_policy",
        "",
        before={"tiers": before},
        after={
            "tiers": [
                {"hours_before": t.hours_before, "refund_percent": t.refund_percent} for t in tiers
            ]
        },
    )
    return HTTPSeeOther(
        location=request.route_url("console_cancellation", _query={"done": "policy_saved"})
    )
