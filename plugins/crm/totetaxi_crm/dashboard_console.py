"""The console home as the operations dashboard: the CRM's section below the tiles (hook
``totetaxi_dashboard_sections``) — the period switcher, the KPIs beside the previous period's,
and server-side SVG charts (no script, no CDN) each with a table of the same numbers.

Every number links to the rows behind it: the core's bookings list filtered by creation days
(``created_from``/``created_to``), status or pickup day.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

from pyramid.config import Configurator
from pyramid.interfaces import IRoutesMapper
from pyramid.request import Request
from totetaxi_core.plugin_api import format_money, hookimpl, local_today, service_labels

from . import dashboard as figures
from .reports.catalog import all_reports

TEMPLATE = "totetaxi_crm:templates/dashboard_section.jinja2"
#: Chart drawing area (SVG user units).
WIDTH, HEIGHT, LEFT, BOTTOM = 640, 180, 8, 20
#: Where a published figure is handled, when that plugin's page is there.
FIGURE_ROUTES = {
    "refunds_cents": "payments_refunds",
    "delivery_completion_rate": "logistics_analytics",
    "on_time_rate": "logistics_analytics",
    "coi_to_review": "documents_review_queue",
    "emails_failed": "notifications_log",
    "payments_needing_attention": "payments_attention",
}
#: Figures whose rows are a report's (of the same days).
FIGURE_REPORTS = {
    "payment_success_rate": "payments_reconciliation",
    "payments_attempted": "payments_reconciliation",
    "payments_succeeded": "payments_reconciliation",
    "deliveries_completed": "deliveries",
    "deliveries_failed": "deliveries",
}
FIGURE_LABELS = {
    "payment_success_rate": "Payment success rate",
    "payments_attempted": "Payments attempted",
    "payments_succeeded": "Payments succeeded",
    "refunds_cents": "Refunded",
    "payments_needing_attention": "Payments needing attention",
    "delivery_completion_rate": "Delivery completion rate",
    "on_time_rate": "On-time rate",
    "deliveries_completed": "Deliveries completed",
    "deliveries_failed": "Deliveries failed",
    "coi_to_review": "COIs to review",
    "emails_failed": "Emails failed",
}


def _bookings_url(request: Request, **query: str) -> str:
    return request.route_path("console_bookings") + "?" + urllib.parse.urlencode(query)


def _customers_url(request: Request, **query: str) -> str:
    return request.route_path("console_customers") + "?" + urllib.parse.urlencode(query)


def _route(request: Request, name: str) -> str | None:
    mapper = request.registry.queryUtility(IRoutesMapper)
    return request.route_path(name) if mapper and mapper.get_route(name) else None


def _figure_url(request: Request, key: str, reports: set[str], period: Any) -> str | None:
    """Where a published figure's rows are: its report over the period's days, or the page
    that handles it (``None`` when neither is installed)."""
    if FIGURE_REPORTS.get(key) in reports:
        query = {"from": period.first.isoformat(), "to": period.last.isoformat()}
        return request.route_path("crm_report", name=FIGURE_REPORTS[key], _query=query)
    return _route(request, FIGURE_ROUTES[key]) if key in FIGURE_ROUTES else None


def _shown(key: str, value: Any) -> str:
    if value is None:
        return "—"
    if key.endswith("_rate"):
        return f"{100 * value:.1f}%"
    if key.endswith("_cents"):
        return format_money(int(value))
    return f"{value:,}" if isinstance(value, int) else str(value)


def _columns(values: list[int], labels: list[str]) -> dict[str, Any]:
    """Bars of ``values`` scaled into the chart's area (SVG attributes, no style)."""
    top = max(values, default=0) or 1
    step = (WIDTH - LEFT) / max(len(values), 1)
    bars = []
    for i, (value, label) in enumerate(zip(values, labels, strict=True)):
        height = round((HEIGHT - BOTTOM - 10) * value / top, 1)
        bars.append(
            {
                "x": round(LEFT + i * step + step * 0.1, 1),
                "y": round(HEIGHT - BOTTOM - height, 1),
                "width": round(step * 0.8, 1),
                "height": height,
                "label": label,
                "value": value,
            }
        )
    return {"bars": bars, "width": WIDTH, "height": HEIGHT, "baseline": HEIGHT - BOTTOM}


def _rows(values: list[int], labels: list[str]) -> dict[str, Any]:
    """Horizontal bars (the service mix)."""
    top = max(values, default=0) or 1
    row = 28
    bars = [
        {
            "y": 6 + i * row,
            "width": round(380 * value / top, 1),
            "label": label,
            "value": value,
            "text_y": 6 + i * row + 15,
        }
        for i, (value, label) in enumerate(zip(values, labels, strict=True))
    ]
    return {"bars": bars, "width": WIDTH, "height": 12 + row * max(len(values), 1)}


def section(request: Request, period_name: str) -> dict[str, Any]:
    today = local_today(request.ctx.now())
    period = figures.period_of({"period": period_name}, today)
    data = figures.dashboard(request.ctx, period)
    created = {"created_from": period.first.isoformat(), "created_to": period.last.isoformat()}
    before = {
        "created_from": period.previous_first.isoformat(),
        "created_to": period.previous_last.isoformat(),
    }
    live = "pending_payment,confirmed,in_progress,completed"
    prev = data["previous"]
    kpis = [
        {
            "label": "Bookings",
            "value": _shown("count", data["bookings"]["count"]),
            "previous": _shown("count", prev["bookings"]["count"]),
            "url": _bookings_url(request, **created),
            "previous_url": _bookings_url(request, **before),
            "testid": "kpi-bookings",
        },
        {
            "label": "Revenue",
            "value": _shown("revenue_cents", data["revenue_cents"]),
            "previous": _shown("revenue_cents", prev["revenue_cents"]),
            "url": _bookings_url(request, status=live, **created),
            "previous_url": _bookings_url(request, status=live, **before),
            "testid": "kpi-revenue",
        },
        {
            "label": "Cancellations",
            "value": _shown("count", data["cancellations"]),
            "previous": _shown("count", prev["cancellations"]),
            "url": _bookings_url(
                request,
                cancelled_from=period.first.isoformat(),
                cancelled_to=period.last.isoformat(),
            ),
            "previous_url": _bookings_url(
                request,
                cancelled_from=period.previous_first.isoformat(),
                cancelled_to=period.previous_last.isoformat(),
            ),
            "testid": "kpi-cancellations",
        },
        {
            "label": "New registrations",
            "value": _shown("count", data["new_registrations"]),
            "previous": _shown("count", prev["new_registrations"]),
            "url": _customers_url(request, **created),
            "previous_url": _customers_url(request, **before),
            "testid": "kpi-registrations",
        },
        {
            "label": "Repeat customer rate",
            "value": _shown("repeat_customer_rate", data["repeat_customer_rate"]),
            "previous": _shown("repeat_customer_rate", prev["repeat_customer_rate"]),
            "url": _bookings_url(request, **created),
            "previous_url": _bookings_url(request, **before),
            "testid": "kpi-repeat",
        },
    ]
    reports = set(all_reports(request.ctx))
    published = [
        {
            "label": FIGURE_LABELS.get(key, key.replace("_", " ").capitalize()),
            "value": _shown(key, value),
            "previous": _shown(key, prev["figures"].get(key)),
            "url": _figure_url(request, key, reports, period),
            "testid": f"figure-{key}",
        }
        for key, value in sorted(data["figures"].items())
        if isinstance(value, int | float) or value is None
    ]
    statuses = [
        {
            "status": status,
            "count": count,
            "url": _bookings_url(request, status=status, **created),
        }
        for status, count in data["bookings"]["by_status"].items()
    ]
    services = sorted(data["by_service"].items(), key=lambda item: (-item[1]["count"], item[0]))
    named = service_labels(request.ctx)
    labels = [named.get(name) or name.replace("_", " ").capitalize() for name, _ in services]
    series = data["series"]
    days = [s["day"] for s in series]
    return {
        "period": period,
        "periods": [
            {"name": name, "url": request.route_path("console_home") + f"?period={name}"}
            for name in figures.PERIODS
        ],
        "kpis": kpis,
        "published": published,
        "statuses": statuses,
        "services": [
            {
                "label": label,
                "count": mix["count"],
                "revenue": format_money(mix["revenue_cents"]),
                "url": _bookings_url(request, service_type=name, **created),
            }
            for label, (name, mix) in zip(labels, services, strict=True)
        ],
        "series": [
            {
                "day": s["day"],
                "bookings": s["bookings"],
                "revenue": format_money(s["revenue_cents"]),
                "url": _bookings_url(request, created_from=s["day"], created_to=s["day"]),
            }
            for s in series
        ],
        "bookings_chart": _columns([s["bookings"] for s in series], days),
        "revenue_chart": _columns([s["revenue_cents"] for s in series], days),
        "service_chart": _rows([mix["count"] for _, mix in services], labels),
        "upcoming": [
            {
                **u,
                "url": _bookings_url(
                    request,
                    date_from=u["day"],
                    date_to=u["day"],
                    status="pending_payment,confirmed,in_progress",
                ),
            }
            for u in data["upcoming_pickups"]
        ],
    }


@hookimpl
def totetaxi_dashboard_sections(request: Request, period: str) -> list[dict[str, Any]]:
    return [{"template": TEMPLATE, "context": section(request, period), "order": 10}]


def includeme(config: Configurator) -> None:
    import sys

    config.add_hookimpls(sys.modules[__name__])
    config.add_static_view("console/static/crm", "totetaxi_crm:static", cache_max_age=3600)
