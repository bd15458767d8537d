"""The console's audit log (``/console/audit``, every staff role): the filters and keyset pages
of ``GET /api/v1/staff/audit-log``, shared through :mod:`totetaxi_core.audit.views`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pyramid.request import Request
from pyramid.view import view_config

from ..audit import views
from ..business_time import format_local
from ..errors import InvalidDraft
from ..identity.permissions import Permission

TEMPLATE = "totetaxi_core:console/templates/audit.jinja2"


@view_config(
    route_name="console_audit",
    request_method="GET",
    renderer=TEMPLATE,
    permission=Permission.STAFF_READ,
)
def audit_log(request: Request) -> dict[str, Any]:
    """Audit records newest first, filtered like the API."""
    form = {name: request.GET.get(name, "") for name in views.FILTERS}
    answer: dict[str, Any] = {
        "form": form,
        "errors": {},
        "rows": None,
        "next_url": None,
        "first_url": None,
        "paged": bool(request.GET.get("cursor")),
    }
    try:
        page = views.page(request, views.filters_of(request.GET))
    except InvalidDraft as exc:
        request.response.status_int = 400
        answer["errors"] = {exc.field: exc.description}
        return answer
    query = {name: value for name, value in form.items() if value}
    if "limit" in request.GET:
        query["limit"] = request.GET["limit"]
    answer["rows"] = [
        {**row, "at_local": format_local(dt.datetime.fromisoformat(row["at"]))}
        for row in page["items"]
    ]
    if page["next_cursor"]:
        answer["next_url"] = request.route_url(
            "console_audit", _query={**query, "cursor": page["next_cursor"]}
        )
    if answer["paged"]:
        answer["first_url"] = request.route_url("console_audit", _query=query)
    return answer
