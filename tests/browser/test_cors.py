"""CORS in Chromium: a page of the React app's origin (listed in ``totetaxi.trusted_origins``)
signs up, saves an address with its CSRF token and reads its profile through ``fetch`` with
credentials; a page of another origin (not listed) can read nothing and write nothing.

Each origin is a real server on loopback (``http://localhost:<port>``, a blank page); the API is
the real app behind waitress on loopback, called as ``localhost`` too (the same site as the
pages, so the ``SameSite=Lax`` session cookie travels, as from a React dev server on
``localhost:3000``).
"""

from __future__ import annotations

from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import func, select
from support.loopback import LoopbackServer

from totetaxi_core.identity.models import Customer
from totetaxi_core.testing import in_transaction

#: Runs in the page: what a React app's API client does. Answers what the page could see.
JOURNEY = """
async (api) => {
  const call = async (path, init = {}) => {
    try {
      const r = await fetch(api + path, {credentials: "include", ...init});
      return {status: r.status, headers: Object.fromEntries(r.headers), body: await r.text()};
    } catch (e) {
      return {blocked: String(e)};
    }
  };
  const json = {"Content-Type": "application/json"};
  const out = {};
  out.services = await call("/api/v1/services");
  out.register = await call("/api/v1/auth/register", {
    method: "POST", headers: json,
    body: JSON.stringify({email: "react@example.com", password: "Kq3!vB9#zL0@mN7$",
                          first_name: "Rea", last_name: "Ct", phone: "+1 212 555 0100"}),
  });
  const csrf = out.register.headers ? out.register.headers["x-csrf-token"] : undefined;
  const address = JSON.stringify({label: "Home", line1: "1 Main St", city: "New York",
                                  state: "NY", postal_code: "10001"});
  out.without_token = await call("/api/v1/me/addresses",
                                 {method: "POST", headers: json, body: address});
  out.with_token = await call("/api/v1/me/addresses", {
    method: "POST", headers: {...json, "X-CSRF-Token": csrf || "none",
                              "Idempotency-Key": "react-1"},
    body: address,
  });
  out.me = await call("/api/v1/me");
  out.csrf = csrf || null;
  return out;
}
"""


class _Blank(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<!doctype html><title>app</title><p>app</p>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


class PageServer(LoopbackServer):
    """A blank page on ``http://localhost:<port>``: an origin of its own."""

    def __init__(self) -> None:
        self._serve(_Blank, "page-server")
        self.origin = f"http://localhost:{self.port}"


@pytest.fixture
def origins() -> Iterator[SimpleNamespace]:
    with PageServer() as listed, PageServer() as other:
        yield SimpleNamespace(listed=listed.origin, other=other.origin)


@pytest.fixture
def api(make_live_server: Any, origins: SimpleNamespace) -> SimpleNamespace:
    server = make_live_server(
        **{"totetaxi.trusted_origins": origins.listed, "totetaxi.plugins": "pricing"}
    )
    return SimpleNamespace(url=server.url.replace("127.0.0.1", "localhost"), server=server)


def customers(api: SimpleNamespace) -> int:
    return in_transaction(
        api.server.registry,
        lambda ctx: ctx.dbsession.scalar(select(func.count()).select_from(Customer)),
    )


def test_the_react_origin_calls_the_api_with_its_session(
    api: SimpleNamespace, origins: SimpleNamespace, page: Any
) -> None:
    page.goto(origins.listed + "/")
    seen = page.evaluate(JOURNEY, api.url)
    assert seen["services"]["status"] == 200
    assert seen["register"]["status"] == 201
    assert seen["csrf"]  # an exposed header: the page read it
    assert seen["without_token"]["status"] == 403  # CSRF still applies, readable by the page
    assert "X-CSRF-Token" in seen["without_token"]["body"]
    assert seen["with_token"]["status"] == 201
    assert seen["me"]["status"] == 200 and "react@example.com" in seen["me"]["body"]


def test_another_origin_can_read_and_write_nothing(
    api: SimpleNamespace, origins: SimpleNamespace, page: Any
) -> None:
    page.goto(origins.other + "/")
    seen = page.evaluate(JOURNEY, api.url)
    for step in ("services", "register", "without_token", "with_token", "me"):
        assert "blocked" in seen[step], step  # fetch failed: a CORS error, nothing readable
    assert seen["csrf"] is None
    assert customers(api) == 0  # the sign-up's preflight was refused: it was never sent
