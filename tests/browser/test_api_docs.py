"""Swagger UI at /api/v1/docs in headless Chromium: every tag shown, bearer sign-in usable.

The app has every installed plugin enabled, so the page shows the whole API. Nothing may load
from outside (``page`` aborts any non-loopback request, and the page would then miss its
script) and the console's Content-Security-Policy must hold (``csp_violations``).
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from totetaxi_core.testing.databases import migrated_plugins

from .conftest import LiveServer, LiveServerFactory

PASSWORD = "Correct-Horse-Battery-9"


def _call(server: LiveServer, path: str, body: dict[str, Any] | None = None) -> Any:
    """A request of the server's own, outside the browser (and its cookies)."""
    request = urllib.request.Request(
        server.url + path,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


def _bearer_token(server: LiveServer) -> tuple[str, str]:
    email = "docs-reader@example.com"
    _call(
        server,
        "/api/v1/auth/register",
        {
            "email": email,
            "password": PASSWORD,
            "first_name": "Dana",
            "last_name": "Reader",
            "phone": "+1 212 555 0142",
        },
    )
    return email, _call(server, "/api/v1/auth/token", {"email": email, "password": PASSWORD})[
        "token"
    ]


def test_swagger_ui_shows_every_tag_and_calls_the_api_with_a_bearer_token(
    make_live_server: LiveServerFactory, page: Any, csp_violations: list[str]
) -> None:
    server = make_live_server(**{"totetaxi.plugins": " ".join(migrated_plugins())})
    document = _call(server, "/api/v1/openapi.json")
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    page.goto(server.url + "/api/v1/docs")
    page.locator("h3.opblock-tag").first.wait_for()
    shown = page.locator("h3.opblock-tag").evaluate_all(
        "nodes => nodes.map(n => n.getAttribute('data-tag'))"
    )
    assert shown == [tag["name"] for tag in document["tags"]]
    assert page.locator(".info .title").inner_text().startswith("ToteTaxi API")

    # Sign in through "Authorize" with a customer's bearer token, then call GET /me.
    email, token = _bearer_token(server)
    page.locator("button.authorize").first.click()
    customer = page.locator(".auth-container").filter(has_text="customer")
    customer.locator("input").fill(token)
    customer.locator("button.authorize").click()
    page.locator("button.close-modal").click()

    operation = document["paths"]["/api/v1/me"]["get"]["operationId"]
    block = page.locator(f"#operations-identity-{operation}")
    block.locator(".opblock-summary").click()
    block.locator("button.try-out__btn").click()
    block.locator("button.execute").click()
    status = block.locator(".live-responses-table .response .response-col_status").first
    status.wait_for()
    assert status.inner_text().strip() == "200"
    answer = block.locator(".live-responses-table td.response-col_description:not(.col_header)")
    assert email in answer.inner_text()
    # Swagger UI sent the token as a bearer (its curl line shows what it sent).
    assert f"Authorization: Bearer {token}" in block.locator(".curl-command").inner_text()

    # persistAuthorization: the token is still there after a reload.
    page.reload()
    page.locator("h3.opblock-tag").first.wait_for()
    kept = json.loads(page.evaluate("localStorage.getItem('authorized')") or "{}")
    assert kept["customer"]["value"] == token

    assert not csp_violations, csp_violations
    assert not errors, errors
