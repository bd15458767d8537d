"""Staff self-service: ``GET /staff/me``, ``POST /staff/me/password`` and
``POST /staff/auth/token/renew``.

The permissions ``/staff/me`` lists are every permission the registry knows (the core's and
those every enabled plugin's manifest grants) that the caller's role holds: what a role-based
admin UI needs to show or hide its actions.
"""

from __future__ import annotations

from typing import Any

import colander
from cornice import Service
from cornice.validators import colander_body_validator
from pyramid.httpexceptions import HTTPForbidden
from pyramid.request import Request
from pyramid.response import Response
from sqlalchemy import update

from .. import audit
from ..api import API_PREFIX, no_content
from ..api.responses import answers, listing, text
from ..api.schemas import strict
from ..db import utcnow
from . import services, sessions, tokens
from .api import _admit, _csrf_header, _succeeded, login_pairs
from .models import ApiToken, PrincipalKind, StaffUser
from .permissions import Permission
from .schemas import PasswordChangeBody, StaffTokenOut
from .services import IdentityError

staff_me = Service(name="staff_me", path=API_PREFIX + "/staff/me")
staff_me_password = Service(name="staff_me_password", path=API_PREFIX + "/staff/me/password")
staff_token_renew = Service(
    name="staff_auth_token_renew", path=API_PREFIX + "/staff/auth/token/renew"
)


class StaffMeOut(colander.MappingSchema):
    """The signed-in staff member, their role and the permissions it holds."""

    id = text()
    email = text()
    name = text()
    first_name = text()
    last_name = text()
    role = text(validator=colander.OneOf(("viewer", "staff", "admin")))
    permissions = listing(text(), description="Every known permission the role holds, sorted.")


def known_permissions(request: Request) -> list[str]:
    """Every permission of the root ACL: the core's and the enabled plugins' grants."""
    return sorted({str(permission) for _, _, permission in request.registry.root_acl})


def held_permissions(request: Request) -> list[str]:
    return [p for p in known_permissions(request) if request.has_permission(p)]


def _staff(request: Request) -> StaffUser:
    identity = request.identity
    if identity is None or not identity.is_staff:  # the permission check makes this rare
        raise HTTPForbidden()
    return identity.principal


def staff_me_json(request: Request, staff: StaffUser) -> dict[str, Any]:
    return {
        "id": str(staff.id),
        "email": staff.email,
        "name": staff.display_name,
        "first_name": staff.first_name,
        "last_name": staff.last_name,
        "role": str(staff.role),
        "permissions": held_permissions(request),
    }


def change_password(request: Request, current: str, new: str) -> None:
    """Check ``current`` (counted against the login throttle), store ``new`` (strength-checked);
    the staff member's other sessions and tokens end, the caller's session (with a new id) or
    token stays. Audited. :class:`IdentityError` names the field at fault."""
    staff = _staff(request)
    pairs = login_pairs(request, PrincipalKind.STAFF, staff.email)
    counted_at = _admit(*pairs)  # a stolen session must not be a password oracle
    ok, _ = services.verify_password(staff.password_hash, current)
    if not ok:
        raise IdentityError(400, "current_password", "The current password is wrong.")
    _succeeded(pairs, counted_at)
    try:
        services.set_password(request.ctx, staff, new)
    except IdentityError as exc:
        raise IdentityError(exc.status, "new_password", exc.description) from None
    identity = request.identity
    sessions.end_all(request, PrincipalKind.STAFF, staff.id)
    if identity.via == "token":
        # set_password revoked every token of the account; the caller's own one stays.
        request.dbsession.execute(
            update(ApiToken)
            .where(ApiToken.id == identity.token.id)
            .values(revoked_at=None)
            .execution_options(synchronize_session=False)
        )
    else:
        _csrf_header(request, sessions.start(request, PrincipalKind.STAFF, staff.id))
    audit.record(
        request.ctx,
        "staff.password_changed",
        "staff_user",
        staff.id,
        after={"by": "self", "via": identity.via},
    )


@staff_me.get(
    permission=Permission.STAFF_READ,
    response_schemas=answers(200, StaffMeOut(), "The signed-in staff member."),
)
def staff_me_view(request: Request) -> dict[str, Any]:
    """Who I am: id, email, name, role and the permissions the role holds."""
    return staff_me_json(request, _staff(request))


@staff_me_password.post(
    schema=strict(PasswordChangeBody),
    validators=(colander_body_validator,),
    permission=Permission.STAFF_READ,
    idempotent=False,
    response_schemas=answers(
        204,
        description="Changed: the other sessions and tokens ended; the caller's session (with a "
        "new id) or token stays.",
        errors={429: "Too many attempts (the login budget)."},
    ),
)
def staff_me_password_view(request: Request) -> Response:
    """Change my password (the current one checked, the strength rules applied)."""
    change_password(
        request, request.validated["current_password"], request.validated["new_password"]
    )
    return no_content(request)


@staff_token_renew.post(
    permission=Permission.STAFF_READ,
    idempotent=False,
    response_schemas=answers(
        200,
        StaffTokenOut(),
        "A new bearer token; the one the request came with is revoked.",
    ),
)
def staff_token_renew_view(request: Request) -> dict[str, Any]:
    """Swap the caller's bearer token for a new one (bearer callers only)."""
    staff = _staff(request)
    identity = request.identity
    if identity.via != "token":
        raise IdentityError(400, "Authorization", "Only a bearer-token request renews its token.")
    value, row = tokens.issue(
        request.dbsession,
        PrincipalKind.STAFF,
        staff.id,
        request.registry.settings["totetaxi.token_max_age_seconds"],
        name=identity.token.name,
    )
    identity.token.revoked_at = utcnow()
    audit.record(request.ctx, "staff.token_renewed", "staff_user", staff.id)
    return {"token": value, "expires_at": row.expires_at.isoformat(), "role": str(staff.role)}
