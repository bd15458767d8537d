"""The 'monitoring_sentry' plugin end to end.

Its API, its task, its console page and its nav entry.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from totetaxi_core.testing import console_sign_in
from totetaxi_core.testing.permissions import permission_matrix
from webtest import TestApp

Headers = Callable[[str], dict[str, Any]]

#: The plugin's API collection.
ITEMS = "/api/v1/monitoring_sentry/items"


def test_seed_item_is_listed(app: TestApp, staff_headers: Headers) -> None:
    items = app.get(ITEMS, headers=staff_headers("viewer")).json["items"]
    assert [item["title"] for item in items] == ["Welcome to Monitoring Sentry"]


def test_created_item_is_processed_after_commit(app: TestApp, staff_headers: Headers) -> None:
    headers = staff_headers("staff")
    created = app.post_json(ITEMS, {"title": "First"}, headers=headers, status=201).json
    assert created["status"] == "new"  # the answer is shaped before the task runs
    items = app.get(ITEMS, headers=headers).json["items"]
    assert {item["title"]: item["status"] for item in items}["First"] == "processed"


def test_bad_title_is_refused(app: TestApp, staff_headers: Headers) -> None:
    headers = staff_headers("staff")
    errors = app.post_json(ITEMS, {"title": ""}, headers=headers, status=400).json["errors"]
    assert [error["name"] for error in errors] == ["title"]


def test_viewer_may_read_but_not_create(app: TestApp, staff_headers: Headers) -> None:
    app.post_json(ITEMS, {"title": "Nope"}, headers=staff_headers("viewer"), status=403)


def test_anonymous_callers_are_refused(app: TestApp) -> None:
    app.get(ITEMS, status=(401, 403))


def test_console_page_and_its_nav_entry(app: TestApp) -> None:
    console_sign_in(app, "viewer")
    page = app.get("/console/monitoring_sentry")
    assert "Welcome to Monitoring Sentry" in page.text
    assert 'href="http://localhost/console/monitoring_sentry"' in app.get("/console/").text


def test_every_endpoint_has_a_permission_row(app: TestApp) -> None:
    """The core's permission matrix calls every endpoint as every kind of caller; this plugin's
    rows (``permission_rows.py``) must name each of its endpoints, no more, no fewer."""
    introspector = app.app.registry.introspector
    patterns = {
        i["introspectable"]["name"]: i["introspectable"]["pattern"]
        for i in introspector.get_category("routes")
    }
    served = set()
    for item in introspector.get_category("views"):
        view = item["introspectable"]
        pattern = patterns.get(view["route_name"], "")
        if "/monitoring_sentry" not in pattern or view["callable"].__name__ == "_fallback_view":
            continue  # another plugin's, or Cornice's 405 for methods a service does not have
        methods = view["request_methods"] or ("GET",)
        served |= {
            (method, pattern)
            for method in ((methods,) if isinstance(methods, str) else methods)
            if method != "HEAD"
        }
    assert set(permission_matrix(["monitoring_sentry"])) - set(permission_matrix([])) == served
