"""Security headers on every answer, and the production Host allow-list, in one tween.

* ``Content-Security-Policy``: HTML (the console, error pages) gets :data:`CONSOLE_POLICY` —
  scripts and styles from this origin's files only, no inline script, style or event handler;
  anything else (JSON, plain text, static files) gets :data:`API_POLICY`, which lets nothing
  load. A page may widen its policy with :func:`allow_csp_sources` (the notifications plugin
  does, for the sandboxed frames that show an email's HTML); a view that sets the header itself
  keeps its own.
* ``X-Frame-Options: DENY`` (``frame-ancestors 'none'`` for browsers without CSP level 2) and
  ``X-Content-Type-Options: nosniff``.
* ``Referrer-Policy``: tracking and reset tokens travel in URLs, so no URL of this app is ever
  sent to another site. ``no-referrer`` on everything but HTML pages, which get ``same-origin``:
  under ``no-referrer`` a browser sends ``Origin: null`` with the page's own form posts and
  fetches, which the cross-site write check (:mod:`totetaxi_core.identity.security`) must
  refuse, since a hostile sandboxed frame sends ``null`` too. ``same-origin`` sends nothing to
  other sites either.
* ``Strict-Transport-Security`` in production only (``totetaxi.hsts_max_age_seconds``):
  development serves plain HTTP on loopback, and a browser that once saw the header would refuse
  it there.
* A request whose ``Host`` is not in ``totetaxi.allowed_hosts`` answers 400 before any view:
  absolute URLs (redirects, links in pages) are built from ``Host``, so a forged one must never
  reach them. An empty list allows any host (development and test); production derives the list
  from ``totetaxi.public_url`` when it is not set (:func:`totetaxi_core.platform.prepare`).
  ``/healthz``, ``/readyz`` and ``/metrics`` answer whatever the ``Host``: load balancers and
  Prometheus reach them by address (``/metrics`` keeps its own guard: loopback or token).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence

from pyramid.registry import Registry
from pyramid.request import Request
from pyramid.response import Response

from ..api.errors import API_PREFIX, json_error

log = logging.getLogger("totetaxi.request")

Handler = Callable[[Request], Response]
Policy = Mapping[str, Sequence[str]]

#: HTML pages: their own scripts, styles and images; fetches (the template editor's preview) and
#: form posts to this origin; never framed, no <base> to redirect relative URLs.
CONSOLE_POLICY: Policy = {
    "default-src": ("'none'",),
    "script-src": ("'self'",),
    "style-src": ("'self'",),
    "img-src": ("'self'", "data:"),
    "connect-src": ("'self'",),
    "form-action": ("'self'",),
    "frame-ancestors": ("'none'",),
    "base-uri": ("'none'",),
}
#: Everything that is not HTML: a JSON answer opened in a browser tab runs and loads nothing.
API_POLICY: Policy = {"default-src": ("'none'",), "frame-ancestors": ("'none'",)}
#: Paths that answer whatever the Host header says (probes address the server by its IP).
HOST_EXEMPT = frozenset({"/healthz", "/readyz", "/metrics"})
#: Host names of this machine only.
LOOPBACK = frozenset({"localhost", "127.0.0.1", "[::1]"})
#: The request attribute holding what :func:`allow_csp_sources` added.
_EXTRA = "totetaxi_csp_sources"


def render_policy(policy: Policy) -> str:
    """``{"default-src": ("'none'",)}`` → ``"default-src 'none'"``."""
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in policy.items())


def allow_csp_sources(request: Request, directive: str, *sources: str) -> None:
    """Widen this answer's Content-Security-Policy: add ``sources`` to ``directive``.

    Only HTML answers use the additions. For a page that shows untrusted HTML in a sandboxed
    ``<iframe srcdoc>``: such a frame inherits the page's policy, so the HTML's inline styles
    need ``allow_csp_sources(request, "style-src", "'unsafe-inline'")``.
    """
    extra: dict[str, list[str]] = request.__dict__.setdefault(_EXTRA, {})
    extra.setdefault(directive, []).extend(sources)


def html_policy(extra: Mapping[str, Iterable[str]] | None = None) -> str:
    """The HTML pages' policy, with ``extra`` sources added to their directives."""
    policy = {name: list(sources) for name, sources in CONSOLE_POLICY.items()}
    for directive, sources in (extra or {}).items():
        current = policy.setdefault(directive, list(CONSOLE_POLICY["default-src"]))
        if current == ["'none'"]:
            current.clear()  # 'none' next to a source is ignored: say only the sources
        current.extend(source for source in sources if source not in current)
    return render_policy(policy)


def host_name(host: str) -> str:
    """The name part of a ``Host`` header, lower case, without port or final dot:
    ``Example.COM.:8443`` → ``example.com``, ``[::1]:6543`` → ``[::1]``."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[: host.find("]") + 1] if "]" in host else host
    return host.partition(":")[0].rstrip(".")


def host_allowed(host: str, allowed: Sequence[str]) -> bool:
    """Whether ``host`` (a ``Host`` header) matches ``allowed``: empty or ``*`` allows any;
    ``example.com`` that name only; ``.example.com`` it and its subdomains."""
    if not allowed or "*" in allowed:
        return True
    name = host_name(host)
    for pattern in allowed:
        if pattern.startswith("."):
            if name == pattern[1:] or name.endswith(pattern):
                return True
        elif name == pattern:
            return True
    return False


def headers_tween_factory(handler: Handler, registry: Registry) -> Handler:
    """Refuse unknown hosts, then put the security headers on whatever the app answers."""
    settings = registry.settings
    allowed = [entry.lower() for entry in settings.get("totetaxi.allowed_hosts") or []]
    hsts = None
    if settings.get("totetaxi.environment") == "production":
        hsts = f"max-age={settings['totetaxi.hsts_max_age_seconds']}"
        if allowed and set(allowed) <= LOOPBACK:
            # public_url left at its development default: every request through a proxy that
            # passes the site's Host will be a 400. Say so once, at start-up.
            log.warning(
                "production answers only for %s (totetaxi.allowed_hosts, from "
                "totetaxi.public_url): set TOTETAXI_PUBLIC_URL or totetaxi.allowed_hosts",
                " ".join(allowed),
            )
    api_policy = render_policy(API_POLICY)
    console_policy = html_policy()

    def tween(request: Request) -> Response:
        # The raw PATH_INFO: the input guard, which checks that it decodes, runs after this.
        path = request.environ.get("PATH_INFO", "")
        if path in HOST_EXEMPT or host_allowed(request.host, allowed):
            response = handler(request)
        else:
            response = _unknown_host(request)
        headers = response.headers
        html = response.content_type == "text/html"
        if "Content-Security-Policy" not in headers:
            if not html:
                headers["Content-Security-Policy"] = api_policy
            elif _EXTRA in request.__dict__:
                headers["Content-Security-Policy"] = html_policy(request.__dict__[_EXTRA])
            else:
                headers["Content-Security-Policy"] = console_policy
        headers["X-Frame-Options"] = "DENY"
        headers["Referrer-Policy"] = "same-origin" if html else "no-referrer"
        headers["X-Content-Type-Options"] = "nosniff"
        if hsts is not None:
            headers["Strict-Transport-Security"] = hsts
        return response

    return tween


def _unknown_host(request: Request) -> Response:
    # The setting is named in the log for ops, not in the answer: a caller forging Host learns
    # nothing about the configuration.
    log.warning("refused a request for host %r: not in totetaxi.allowed_hosts", request.host[:100])
    description = "This server does not answer for that host."
    if request.environ.get("PATH_INFO", "").startswith(API_PREFIX):
        return json_error(request, 400, "Host", description, "header")
    return Response(description, status=400, content_type="text/plain", charset="utf-8")
