"""Permissions and the root ACL (DESIGN §5).

Principals of a request: ``system.Everyone``; once signed in ``system.Authenticated``, the kind
(``customer`` or ``staff``), ``customer:<id>`` / ``staff:<id>``, and for staff one
``role:<name>`` per role their role includes (an admin is also ``role:staff`` and
``role:viewer``). Plugins add permissions in their manifest (``permissions={"name": "role"}``)
and they join the same ACL.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import Any

from pyramid.authorization import Allow

from .models import Role


class Permission(enum.StrEnum):
    """The core's permissions. ``NO_PERMISSION_REQUIRED`` marks public views."""

    CUSTOMER_SELF = "customer.self"  # a signed-in customer acting on their own account
    STAFF_READ = "staff.read"  # any staff role (viewer and up)
    STAFF_WRITE = "staff.write"  # staff and admin
    ADMIN = "admin"  # admin only: staff management, plugin management, refund approval


#: Who holds each core permission: a role name or ``customer``.
CORE_GRANTS: dict[str, str] = {
    Permission.CUSTOMER_SELF: "customer",
    Permission.STAFF_READ: Role.VIEWER,
    Permission.STAFF_WRITE: Role.STAFF,
    Permission.ADMIN: Role.ADMIN,
}

GRANTEES = ("customer", *(r.value for r in Role))


def principal_for(grantee: str) -> str:
    return "customer" if grantee == "customer" else f"role:{grantee}"


def build_acl(grants: Iterable[tuple[str, str]]) -> list[tuple[str, str, str]]:
    """The root ACL from ``(permission, grantee)`` pairs."""
    return [(Allow, principal_for(grantee), permission) for permission, grantee in grants]


class Root:
    """The root context: its ACL grants every permission to the principals that hold it."""

    def __init__(self, request: Any) -> None:
        self.request = request
        self.__acl__ = request.registry.root_acl
