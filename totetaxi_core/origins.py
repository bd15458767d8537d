"""Web origins (``scheme://host[:port]``): the one reading of ``totetaxi.trusted_origins``.

Three checks trust other sites' pages, and all three read the list here, so that an origin
written once in the ``.ini`` means the same everywhere:

* the cross-site write guard (:func:`totetaxi_core.identity.security.guard_unsafe_requests`);
* the live updates' handshake and their ``EventSource`` answers (:mod:`totetaxi_core.live`);
* CORS on the API (:mod:`totetaxi_core.ops.cors`).

Origins are compared in their normal form (:func:`origin_of`): lower case, no default port, no
path. A browser sends its ``Origin`` that way already; the normal form lets an operator write
``https://WWW.example.com:443/`` and still match.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

SETTING = "totetaxi.trusted_origins"

_DEFAULT_PORTS = {"http": "80", "https": "443"}
#: A WebSocket handshake's URL names the origin's scheme with its ws counterpart.
_SCHEMES = {"ws": "http", "wss": "https"}


def origin_of(url: str) -> str:
    """The normal form of the origin of ``url``: ``HTTPS://Example.com:443/x`` →
    ``https://example.com``; ``wss://`` counts as ``https://``. ``""`` when ``url`` names no
    host (``null``, the ``Origin`` of a sandboxed frame or a file, matches nothing)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return ""
    scheme = _SCHEMES.get(parts.scheme.lower(), parts.scheme.lower())
    host = (parts.hostname or "").rstrip(".")
    if not scheme or not host:
        return ""
    if ":" in host:  # IPv6: urlsplit drops the brackets
        host = f"[{host}]"
    if port is not None and str(port) != _DEFAULT_PORTS.get(scheme):
        host = f"{host}:{port}"
    return f"{scheme}://{host}"


def origin_problem(entry: str) -> str | None:
    """Why ``entry`` cannot be an item of ``totetaxi.trusted_origins``, or ``None``.

    A ``*`` is refused: the list grants pages the visitor's session (credentialed CORS, the
    write guard, the live handshake), and a wildcard would grant it to every site on the web.
    """
    if "*" in entry:
        return (
            f"must list origins one by one, not {entry!r}: these sites' pages act with the "
            "visitor's session, so a wildcard would let any site do so"
        )
    parts = urlsplit(entry)
    if (
        parts.scheme not in ("http", "https")
        or not origin_of(entry)
        or parts.username is not None
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
    ):
        return f"must list origins as scheme://host[:port] (http or https, no path), got {entry!r}"
    return None


def check_trusted_origins(value: list[str]) -> str | None:
    """The settings check of ``totetaxi.trusted_origins``: the first bad entry's problem."""
    for entry in value:
        problem = origin_problem(entry)
        if problem:
            return problem
    return None


@lru_cache(maxsize=32)
def _normalised(entries: tuple[str, ...]) -> frozenset[str]:
    return frozenset(origin for origin in map(origin_of, entries) if origin)


def listed_origins(settings: Mapping[str, Any]) -> frozenset[str]:
    """The origins of ``totetaxi.trusted_origins``, normalised (read once per distinct list)."""
    return _normalised(tuple(settings.get(SETTING) or ()))


def trusted_origins(settings: Mapping[str, Any], own: str) -> frozenset[str]:
    """The origins whose pages may use the session cookie: this site (``own``, a URL of it),
    ``totetaxi.public_url`` and the listed ones."""
    return listed_origins(settings) | {origin_of(own), origin_of(settings["totetaxi.public_url"])}


def is_trusted(origin: str | None, trusted: Collection[str]) -> bool:
    """Whether the ``Origin`` header ``origin`` names one of ``trusted`` (normal forms)."""
    if not origin:
        return False
    if origin in trusted:  # a browser sends the normal form: no parsing on the common path
        return True
    normal = origin_of(origin)
    return bool(normal) and normal in trusted
