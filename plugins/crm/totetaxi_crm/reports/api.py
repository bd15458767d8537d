"""The reports API (staff): the list, one report as JSON pages, and the CSV export.

* ``GET /api/v1/staff/reports`` — every report: ``name``, ``title``, ``columns``,
  ``description`` (``staff.read``).
* ``GET /api/v1/staff/reports/{name}?from=&to=&cursor=&limit=`` — one page of rows as
  ``{column: value}`` objects (``staff.read``); offset pages over the report's stable order,
  ``limit`` 1..100 (default ``crm.page_size``, at most 100), ``next_cursor`` opaque.
* ``GET /api/v1/staff/reports/{name}.csv?from=&to=`` — the CSV download (``crm.export``: staff
  and admins), streamed; ``Content-Disposition: attachment; filename="<name>-<from>-<to>.csv"``.

``from``/``to`` are New York days, both included (default the last 30 days); a malformed date
is a 400 naming ``from`` or ``to``, ``from`` after ``to`` or more than 366 days a 400 naming
``from``; an unknown report is a 404.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import colander
from cornice import Service
from cornice.validators import colander_validator
from pyramid.config import Configurator
from pyramid.request import Request
from pyramid.response import Response
from totetaxi_core.plugin_api import (
    API_PREFIX,
    Permission,
    QueryInteger,
    answers,
    day,
    free,
    json_error,
    listing,
    record_audit,
    text,
)

from ..permissions import EXPORT
from .catalog import RangeError, Report, all_reports, bounds, parse_range
from .export import csv_chunks, json_page

#: The most rows one JSON page holds.
MAX_LIMIT = 100
PATH = API_PREFIX + "/staff/reports"

# Venusian registers a module's services in the alphabetical order of their names: the CSV
# route (``csv_export``) must come before ``report_page``, whose ``{name}`` would match
# ``bookings.csv`` too.
csv_export = Service(
    name="crm_report_csv",
    path=PATH + "/{name}.csv",
    description="A report as CSV, streamed",
)
report_page = Service(
    name="crm_report_api", path=PATH + "/{name}", description="One page of a report's rows"
)
reports_list = Service(name="crm_reports_api", path=PATH, description="The reports staff can read")


def _range_query(*extra: colander.SchemaNode) -> colander.MappingSchema:
    query = colander.SchemaNode(
        colander.Mapping(),
        colander.SchemaNode(
            colander.String(),
            name="from",
            missing=colander.drop,
            description="First New York day, YYYY-MM-DD (default: 29 days before to).",
        ),
        colander.SchemaNode(
            colander.String(),
            name="to",
            missing=colander.drop,
            description="Last New York day, YYYY-MM-DD, included (default: today).",
        ),
        *extra,
        name="querystring",
    )
    schema = colander.MappingSchema()
    schema.add(query)
    return schema


CSV_QUERY = _range_query()
PAGE_QUERY = _range_query(
    colander.SchemaNode(
        QueryInteger(1, MAX_LIMIT),
        name="limit",
        missing=colander.drop,
        description=f"Rows per page, 1 to {MAX_LIMIT} (default crm.page_size).",
    ),
    colander.SchemaNode(
        colander.String(),
        name="cursor",
        missing=colander.drop,
        description="The next_cursor of the previous page (opaque).",
    ),
)


class ReportOut(colander.MappingSchema):
    name = text()
    title = text()
    columns = listing(text())
    description = text()


class ReportListOut(colander.MappingSchema):
    items = listing(ReportOut())


class ReportPageOut(colander.MappingSchema):
    """One page of a report: rows as ``{column: value}`` in the report's order."""

    name = text()
    title = text()
    columns = listing(text())
    items = listing(free())
    summary = free(null=True, description="The range's figures, for a report that has them.")
    next_cursor = text(null=True, description="Pass as ?cursor= for the next page.")


def _page_out() -> colander.SchemaNode:
    node = ReportPageOut()
    node.add(day(name="from"))
    node.add(day(name="to"))
    return node


def encode_offset(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o{offset}".encode()).decode().rstrip("=")


def decode_offset(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ValueError(cursor) from None
    if not (raw.startswith("o") and raw[1:].isascii() and raw[1:].isdigit()):
        raise ValueError(cursor)
    return int(raw[1:])


def find_report(request: Request) -> Report | None:
    return all_reports(request.ctx).get(request.matchdict["name"])


def _unknown(request: Request) -> Response:
    return json_error(request, 404, "name", "No such report.", "path")


def _bad_range(request: Request, exc: RangeError) -> Response:
    return json_error(request, 400, exc.field, exc.description, "querystring")


@reports_list.get(
    permission=Permission.STAFF_READ,
    response_schemas=answers(200, ReportListOut(), "Every report of the enabled plugins."),
)
def reports_view(request: Request) -> dict[str, Any]:
    return {"items": [report.describe() for report in all_reports(request.ctx).values()]}


@report_page.get(
    schema=PAGE_QUERY,
    validators=(colander_validator,),
    permission=Permission.STAFF_READ,
    response_schemas=answers(200, _page_out(), "One page of the report's rows."),
)
def report_page_view(request: Request) -> Any:
    report = find_report(request)
    if report is None:
        return _unknown(request)
    try:
        first, last = parse_range(request.GET, request.ctx.now())
    except RangeError as exc:
        return _bad_range(request, exc)
    default = min(int(request.registry.settings.get("crm.page_size", 50)), MAX_LIMIT)
    # The schema's QueryInteger has already refused a bad limit (400 naming it).
    limit = request.validated["querystring"].get("limit", default)
    offset = 0
    if request.GET.get("cursor"):
        try:
            offset = decode_offset(request.GET["cursor"])
        except ValueError:
            return json_error(
                request, 400, "cursor", "cursor: not one this API gave.", "querystring"
            )
    start, end = bounds(first, last)
    items, more = json_page(request.ctx, report, start, end, offset, limit)
    return {
        **report.describe(),
        "from": first.isoformat(),
        "to": last.isoformat(),
        "summary": report.summarize(request.ctx, start, end) if report.summarize else None,
        "items": items,
        "next_cursor": encode_offset(offset + limit) if more else None,
    }


@csv_export.get(
    schema=CSV_QUERY,
    validators=(colander_validator,),
    permission=EXPORT,
    response_schemas=answers(
        200,
        text(),
        "The report as UTF-8 CSV with a header row, streamed.",
        media_type="text/csv",
    ),
)
def report_csv_view(request: Request) -> Response:
    report = find_report(request)
    if report is None:
        return _unknown(request)
    try:
        first, last = parse_range(request.GET, request.ctx.now())
    except RangeError as exc:
        return _bad_range(request, exc)
    record_audit(
        request.ctx,
        "report.exported",
        target_type="report",
        target_id=report.name,
        after={"from": first.isoformat(), "to": last.isoformat()},
    )
    start, end = bounds(first, last)
    filename = f"{report.name}-{first.isoformat()}-{last.isoformat()}.csv"
    return Response(
        app_iter=csv_chunks(request.registry, report, start, end),
        content_type="text/csv",
        charset="utf-8",
        content_disposition=f'attachment; filename="{filename}"',
        cache_control="no-store",
    )


def includeme(config: Configurator) -> None:
    config.scan(__name__)
