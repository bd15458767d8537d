"""The reports' console pages.

* ``/console/reports`` — every report, with a date-range form whose range the links carry;
* ``/console/reports/{name}?from=&to=&cursor=`` — one page of the report (``crm.page_size``
  rows, offset pages) and, for staff with ``crm.export``, an "Export CSV" link to the API's
  download of the same range.

A bad range answers the page again with a 400 and the message at its field.
"""

from __future__ import annotations

from typing import Any

from pyramid.config import Configurator
from pyramid.httpexceptions import HTTPNotFound
from pyramid.request import Request
from pyramid.view import view_config
from totetaxi_core.plugin_api import Permission

from ..permissions import EXPORT
from .api import decode_offset, encode_offset
from .catalog import MAX_DAYS, RangeError, all_reports, bounds, parse_range
from .export import json_page

TEMPLATES = "totetaxi_crm:templates/"
LIST = TEMPLATES + "reports.jinja2"
TABLE = TEMPLATES + "reports_table.jinja2"


def _range(request: Request) -> tuple[dict[str, str], dict[str, str], Any]:
    typed = {"from": request.GET.get("from", ""), "to": request.GET.get("to", "")}
    try:
        first, last = parse_range(request.GET, request.ctx.now())
    except RangeError as exc:
        request.response.status_int = 400
        return typed, {exc.field: exc.description}, None
    return {"from": first.isoformat(), "to": last.isoformat()}, {}, (first, last)


@view_config(
    route_name="crm_reports", request_method="GET", renderer=LIST, permission=Permission.STAFF_READ
)
def reports_page(request: Request) -> dict[str, Any]:
    typed, errors, _ = _range(request)
    return {
        "reports": list(all_reports(request.ctx).values()),
        "typed": typed,
        "errors": errors,
        "query": {} if errors else typed,
        "max_days": MAX_DAYS,
        "can_export": bool(request.has_permission(EXPORT)),
    }


@view_config(
    route_name="crm_report", request_method="GET", renderer=TABLE, permission=Permission.STAFF_READ
)
def report_page(request: Request) -> dict[str, Any]:
    report = all_reports(request.ctx).get(request.matchdict["name"])
    if report is None:
        raise HTTPNotFound("No such report.")
    typed, errors, days = _range(request)
    page: dict[str, Any] = {
        "report": report,
        "typed": typed,
        "errors": errors,
        "rows": None,
        "next_url": None,
        "first_url": None,
        "csv_url": None,
        "summary": None,
        "max_days": MAX_DAYS,
    }
    offset = 0
    if not errors and request.GET.get("cursor"):
        try:
            offset = decode_offset(request.GET["cursor"])
        except ValueError:
            request.response.status_int = 400
            errors["cursor"] = "This page link is not valid: start from the first page."
    if errors:
        return page
    start, end = bounds(*days)
    limit = int(request.registry.settings.get("crm.page_size", 50))
    items, more = json_page(request.ctx, report, start, end, offset, limit)
    page["rows"] = [[item[column] for column in report.columns] for item in items]
    if report.summarize is not None:
        page["summary"] = report.summarize(request.ctx, start, end)
    page["offset"] = offset
    if more:
        page["next_url"] = request.route_path(
            "crm_report",
            name=report.name,
            _query={**typed, "cursor": encode_offset(offset + limit)},
        )
    if offset:
        page["first_url"] = request.route_path("crm_report", name=report.name, _query=typed)
    if request.has_permission(EXPORT):
        page["csv_url"] = request.route_path("crm_report_csv", name=report.name, _query=typed)
    return page


def includeme(config: Configurator) -> None:
    config.add_route("crm_reports", "/console/reports")
    config.add_route("crm_report", "/console/reports/{name}")
    config.scan(__name__)
