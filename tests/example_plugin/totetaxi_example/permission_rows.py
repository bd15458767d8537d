"""The example plugin: its rows of the permission matrix (``tests/core/test_permissions.py``).

Registered in entry point group ``totetaxi.permission_rows`` under the plugin's name, and called
by the test kit with its row helpers (:mod:`totetaxi_core.testing.permissions`) as ``kit``, so
this module imports nothing and is loaded only by test suites. Each row maps ``(method, route
pattern)`` to ``(concrete path, body or None, {caller: expected status})``; the path may use
``{booking}``, ``{number}``, ``{customer}``, ``{address}`` and ``{staff}``.
"""

from __future__ import annotations

from typing import Any


def rows(kit: Any) -> dict[tuple[str, str], tuple[str, Any, dict[str, int]]]:
    """The example plugin's routes."""
    row = kit.row
    PUBLIC = kit.PUBLIC
    return {
        # The example plugin (tests only) declares its routes public.
        ("GET", "/api/v1/example/hello"): ("/api/v1/example/hello", None, PUBLIC),
        ("GET", "/api/v1/example/notes"): ("/api/v1/example/notes", None, PUBLIC),
        ("POST", "/api/v1/example/notes"): ("/api/v1/example/notes", {}, row(*[400] * 6)),
        ("POST", "/api/v1/example/counters/{name}"): ("/api/v1/example/counters/x", {}, PUBLIC),
    }
