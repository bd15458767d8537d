"""``GET /metrics``: the Prometheus text exposition, for loopback callers or the metrics token.

Who may read it:

* a client on this machine (``REMOTE_ADDR`` a loopback address) whose request came through no
  proxy — a request forwarded by the local proxy carries ``X-Forwarded-For`` (or ``Forwarded``)
  and is not a loopback client, whatever its socket says;
* anyone sending ``Authorization: Bearer <totetaxi.metrics_token>`` (compared in constant time)
  when a token is set.

Anyone else gets the same 404 as a path that does not exist: the endpoint is not advertised.
"""

from __future__ import annotations

import hmac
import ipaddress

from pyramid.httpexceptions import HTTPNotFound
from pyramid.request import Request
from pyramid.response import Response

from .metrics import CONTENT_TYPE, render

#: Headers a proxy adds: their presence means the socket's address is the proxy's.
FORWARDING_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Real-IP")


def is_loopback_client(request: Request) -> bool:
    """Whether the request comes straight from this machine (no proxy in between).

    ``request.remote_addr`` (the socket's peer, or what the server's trusted-proxy translation
    made of it), never ``client_addr``, which believes any ``X-Forwarded-For``.
    """
    if any(name in request.headers for name in FORWARDING_HEADERS):
        return False
    try:
        return ipaddress.ip_address((request.remote_addr or "").strip("[]")).is_loopback
    except ValueError:
        return False


def has_metrics_token(request: Request) -> bool:
    """Whether the request carries the configured metrics token (constant-time comparison)."""
    token = request.registry.settings.get("totetaxi.metrics_token") or ""
    scheme, _, given = (request.headers.get("Authorization") or "").partition(" ")
    if not token or scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())


def metrics_view(request: Request) -> Response:
    if not (is_loopback_client(request) or has_metrics_token(request)):
        raise HTTPNotFound(request.path_info)  # worded as the router words an unknown path
    response = Response(body=render(request.registry))
    response.headers["Content-Type"] = CONTENT_TYPE
    response.headers["Cache-Control"] = "no-store"
    return response
