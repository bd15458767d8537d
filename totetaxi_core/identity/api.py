"""The account API of API.md: /auth/*, /me, /me/addresses, /staff/auth/token."""

from __future__ import annotations

import time
from typing import Any

from cornice import Service
from cornice.validators import colander_body_validator, colander_validator
from pyramid.config import Configurator
from pyramid.csrf import get_csrf_token
from pyramid.httpexceptions import HTTPForbidden, HTTPFound
from pyramid.renderers import render_to_response
from pyramid.request import Request
from pyramid.response import Response
from pyramid.security import NO_PERMISSION_REQUIRED
from sqlalchemy import select

from ..addresses import as_typed_of
from ..api import API_PREFIX, json_error, no_content
from ..api.pagination import PAGE_QUERY
from ..api.responses import answers, page_of
from ..api.schemas import strict
from . import services, sessions, tokens
from .contexts import AddressContext, OwnedContext
from .models import Customer, PrincipalKind, SavedAddress
from .permissions import Permission
from .schemas import (
    SIGNED_IN_EXAMPLE,
    STAFF_TOKEN_EXAMPLE,
    TOKEN_EXAMPLE,
    Accepted,
    AddressBody,
    AddressOut,
    AddressPatchBody,
    CredentialsBody,
    CsrfOut,
    CustomerOut,
    MePatchBody,
    PasswordChangeBody,
    RegisterBody,
    ResetBody,
    ResetConfirmBody,
    SignedIn,
    StaffTokenOut,
    TokenOut,
    preferences_problem,
)
from .security import bearer_token
from .services import IdentityError
from .throttle import Throttle, admit

PUBLIC = NO_PERMISSION_REQUIRED
BAD_CREDENTIALS = "Email or password is wrong."


class Throttled(Exception):
    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after


def _body_service(name: str, path: str, **kw: Any) -> Service:
    return Service(name=name, path=API_PREFIX + path, **kw)


register = _body_service("auth_register", "/auth/register", description="Create an account")
login = _body_service("auth_login", "/auth/login")
token = _body_service("auth_token", "/auth/token")
logout = _body_service("auth_logout", "/auth/logout")
csrf = _body_service("auth_csrf", "/auth/csrf")
reset = _body_service("auth_password_reset", "/auth/password-reset")
reset_confirm = _body_service("auth_password_reset_confirm", "/auth/password-reset/confirm")
me = _body_service("me", "/me")
me_password = _body_service("me_password", "/me/password")
addresses = _body_service("me_addresses", "/me/addresses")
address = _body_service("me_address", "/me/addresses/{id}", factory=AddressContext)
staff_token = _body_service("staff_auth_token", "/staff/auth/token")


# --- shaping answers -------------------------------------------------------------------------


def customer_json(customer: Customer) -> dict[str, Any]:
    profile = customer.profile
    return {
        "id": str(customer.id),
        "email": customer.email,
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "phone": customer.phone,
        "preferences": profile.preferences if profile else {},
        "counts": {
            "total_bookings": profile.total_bookings if profile else 0,
            "completed_bookings": profile.completed_bookings if profile else 0,
            "total_spent_cents": profile.total_spent_cents if profile else 0,
        },
        "created_at": customer.created_at.isoformat(),
    }


def address_json(address: SavedAddress) -> dict[str, Any]:
    return {
        "id": str(address.id),
        "label": address.label,
        "line1": address.line1,
        "line2": address.line2,
        "city": address.city,
        "state": address.state,
        "postal_code": address.postal_code,
        "as_typed": as_typed_of(address),
        "created_at": address.created_at.isoformat(),
        "updated_at": address.updated_at.isoformat(),
    }


# --- throttling ------------------------------------------------------------------------------


def _admit(*pairs: tuple[Throttle, str]) -> float:
    """Count an attempt against ``pairs``; the time it was counted at (to forgive it later)."""
    now = time.time()
    wait = admit(pairs, now)
    if wait is not None:
        raise Throttled(wait)
    return now


def _succeeded(pairs: tuple[tuple[Throttle, str], ...], counted_at: float) -> None:
    """A correct password: the account's count starts again; the address's forgets this one."""
    (account, account_key), (address, address_key) = pairs
    account.reset(account_key)
    address.forgive(address_key, counted_at)


def _client(request: Request) -> str:
    return request.client_addr or "unknown"


def login_pairs(request: Request, kind: PrincipalKind, email: str) -> tuple:
    """The throttles of a login attempt: the account (normalised email) and the address."""
    limits = request.registry.throttles
    return (
        (limits.login_account, f"{kind}:{services.normalize_email(email)}"),
        (limits.login_address, _client(request)),
    )


def authenticate_throttled(request: Request, kind: PrincipalKind, email: str, password: str) -> Any:
    """Count the attempt, then check the credentials; ``Throttled`` when over the limit.

    Shared by the API and the console login, so both spend one budget per account.
    """
    pairs = login_pairs(request, kind, email)
    counted_at = _admit(*pairs)
    principal = services.authenticate(request.ctx, kind, email, password)
    if principal is not None:
        _succeeded(pairs, counted_at)
        request.ctx.actor = principal
    return principal


def _authenticate(request: Request, kind: PrincipalKind) -> Any:
    body = request.validated
    principal = authenticate_throttled(request, kind, body["email"], body["password"])
    if principal is None:
        raise IdentityError(401, "password", BAD_CREDENTIALS)
    return principal


def _csrf_header(request: Request, data: sessions.SessionData) -> None:
    def callback(request: Request, response: Response) -> None:
        response.headers["X-CSRF-Token"] = data.csrf_token

    request.add_response_callback(callback)


# --- /auth -----------------------------------------------------------------------------------


@register.post(
    idempotent=False,
    schema=strict(RegisterBody),
    validators=(colander_body_validator,),
    permission=PUBLIC,
    response_schemas=answers(
        201,
        SignedIn(),
        "Registered and signed in: the session cookie is set, X-CSRF-Token carries its token.",
        errors={
            409: "An account already uses this email: sign in or reset the password.",
            429: "Too many sign-ups from this address.",
        },
    ),
)
def register_view(request: Request) -> dict[str, Any]:
    """Create a customer account and sign it in (cookie)."""
    _admit((request.registry.throttles.signup_address, _client(request)))
    customer = services.register_customer(request.ctx, **request.validated)
    _csrf_header(request, sessions.start(request, PrincipalKind.CUSTOMER, customer.id))
    request.response.status_code = 201
    return {"customer": customer_json(customer)}


@login.post(
    idempotent=False,
    schema=strict(CredentialsBody),
    validators=(colander_body_validator,),
    permission=PUBLIC,
    response_schemas=answers(
        200,
        SignedIn(),
        "Signed in: a new session cookie, its CSRF token in X-CSRF-Token.",
        example=SIGNED_IN_EXAMPLE,
        errors={401: "Email or password is wrong.", 429: "Too many attempts."},
    ),
)
def login_view(request: Request) -> dict[str, Any]:
    """Sign a customer in: a new session cookie (the session id always changes)."""
    customer = _authenticate(request, PrincipalKind.CUSTOMER)
    _csrf_header(request, sessions.start(request, PrincipalKind.CUSTOMER, customer.id))
    return {"customer": customer_json(customer)}


@token.post(
    idempotent=False,
    schema=strict(CredentialsBody),
    validators=(colander_body_validator,),
    permission=PUBLIC,
    response_schemas=answers(
        200,
        TokenOut(),
        "A customer's bearer token.",
        example=TOKEN_EXAMPLE,
        errors={401: "Email or password is wrong.", 429: "Too many attempts."},
    ),
)
def token_view(request: Request) -> dict[str, Any]:
    """A bearer token for a customer (API clients)."""
    customer = _authenticate(request, PrincipalKind.CUSTOMER)
    value, row = tokens.issue(
        request.dbsession,
        PrincipalKind.CUSTOMER,
        customer.id,
        request.registry.settings["totetaxi.token_max_age_seconds"],
    )
    return {"token": value, "expires_at": row.expires_at.isoformat()}


@staff_token.post(
    schema=strict(CredentialsBody),
    validators=(colander_body_validator,),
    permission=PUBLIC,
    idempotent=False,
    response_schemas=answers(
        200,
        StaffTokenOut(),
        "A staff member's bearer token.",
        example=STAFF_TOKEN_EXAMPLE,
        errors={401: "Email or password is wrong.", 429: "Too many attempts."},
    ),
)
def staff_token_view(request: Request) -> dict[str, Any]:
    """A bearer token for a staff user (staff API clients)."""
    staff = _authenticate(request, PrincipalKind.STAFF)
    value, row = tokens.issue(
        request.dbsession,
        PrincipalKind.STAFF,
        staff.id,
        request.registry.settings["totetaxi.token_max_age_seconds"],
    )
    return {"token": value, "expires_at": row.expires_at.isoformat(), "role": str(staff.role)}


@logout.post(
    idempotent=False,
    permission=PUBLIC,
    response_schemas=answers(204, description="Signed out (or the token revoked)."),
)
def logout_view(request: Request) -> Response:
    """End the session (cookie) or revoke the token (bearer)."""
    if bearer_token(request) is not None:
        # A token request signs out that token only, never the cookie's session (which a
        # cross-site request could otherwise end without the CSRF token).
        identity = request.identity
        if identity is not None and identity.via == "token":
            tokens.revoke(request.dbsession, identity.token)
    else:
        sessions.end(request)
    return no_content(request)


@csrf.get(
    permission=PUBLIC,
    response_schemas=answers(200, CsrfOut(), "The CSRF token of the caller's session."),
)
def csrf_view(request: Request) -> dict[str, str]:
    """The CSRF token of the caller's session (one is started if there is none)."""
    if bearer_token(request) is not None:
        raise IdentityError(400, "Authorization", "Bearer-token requests need no CSRF token.")
    return {"csrf_token": get_csrf_token(request)}


@reset.post(
    schema=strict(ResetBody),
    validators=(colander_body_validator,),
    permission=PUBLIC,
    idempotent=False,
    response_schemas=answers(
        202,
        Accepted(),
        "Accepted, whether or not an account uses the email.",
        errors={429: "Too many reset requests."},
    ),
)
def reset_view(request: Request) -> dict[str, str]:
    """Email a single-use reset link; the same answer whether or not the account exists.

    The same work too: the request only queues :data:`services.RESET_TASK`, which looks the
    account up. Looking it up here made an existing account's answer measurably slower (a token
    row and an email queued) than a missing one's.
    """
    limits = request.registry.throttles
    email = request.validated["email"].lower()
    _admit(
        (limits.reset_account, services.normalize_email(email)),
        (limits.reset_address, _client(request)),
    )
    request.ctx.enqueue(services.RESET_TASK, email)
    request.response.status_code = 202
    return {
        "status": "accepted",
        "detail": "If an account uses this email, a reset link is on its way.",
    }


@reset_confirm.post(
    schema=strict(ResetConfirmBody),
    validators=(colander_body_validator,),
    permission=PUBLIC,
    idempotent=False,
    response_schemas=answers(
        204, description="The password is set; every session and token of the account ended."
    ),
)
def reset_confirm_view(request: Request) -> Response:
    """Set a new password with a reset token; every session and token of the account ends."""
    customer = services.confirm_password_reset(
        request.ctx, request.validated["token"], request.validated["password"]
    )
    sessions.end_all(request, PrincipalKind.CUSTOMER, customer.id)
    return no_content(request)


# --- /me -------------------------------------------------------------------------------------


def _customer(request: Request) -> Customer:
    identity = request.identity
    if identity is None or not identity.is_customer:  # the permission check makes this rare
        raise HTTPForbidden()
    return identity.principal


@me.get(
    permission=Permission.CUSTOMER_SELF,
    response_schemas=answers(200, CustomerOut(), "The signed-in customer."),
)
def me_view(request: Request) -> dict[str, Any]:
    """The signed-in customer."""
    return customer_json(_customer(request))


@me.patch(
    schema=strict(MePatchBody),
    validators=(colander_body_validator,),
    permission=Permission.CUSTOMER_SELF,
    response_schemas=answers(200, CustomerOut(), "The customer, changed."),
)
def me_patch_view(request: Request) -> dict[str, Any]:
    """Change name, phone or preferences."""
    customer = _customer(request)
    changes = dict(request.validated)
    preferences = changes.pop("preferences", None)
    for name, value in changes.items():
        setattr(customer, name, value)
    if preferences is not None:
        merged = {**customer.profile.preferences, **preferences}
        problem = preferences_problem(merged)
        if problem is not None:  # each change within bounds, together over them
            raise IdentityError(400, "preferences", f"Together with the stored ones: {problem}.")
        customer.profile.preferences = merged
    return customer_json(customer)


@me_password.post(
    schema=strict(PasswordChangeBody),
    validators=(colander_body_validator,),
    permission=Permission.CUSTOMER_SELF,
    idempotent=False,
    response_schemas=answers(
        204,
        description="Changed: other sessions and every token ended; this session has a new id.",
        errors={429: "Too many attempts (the login budget)."},
    ),
)
def me_password_view(request: Request) -> Response:
    """Change the password: other sessions and every token end; this session gets a new id."""
    customer = _customer(request)
    pairs = login_pairs(request, PrincipalKind.CUSTOMER, customer.email)
    counted_at = _admit(*pairs)  # a stolen session must not be a password oracle
    ok, _ = services.verify_password(customer.password_hash, request.validated["current_password"])
    if not ok:
        raise IdentityError(400, "current_password", "The current password is wrong.")
    _succeeded(pairs, counted_at)
    services.set_password(request.ctx, customer, request.validated["new_password"])
    sessions.end_all(request, PrincipalKind.CUSTOMER, customer.id)
    if request.identity.via == "session":
        _csrf_header(request, sessions.start(request, PrincipalKind.CUSTOMER, customer.id))
    return no_content(request)


@addresses.get(
    schema=PAGE_QUERY,
    validators=(colander_validator,),
    permission=Permission.CUSTOMER_SELF,
    response_schemas=answers(200, page_of(AddressOut()), "Saved addresses, newest first."),
)
def addresses_view(request: Request) -> dict[str, Any]:
    """The customer's saved addresses, newest first, paginated."""
    from ..api.pagination import keyset_page

    customer = _customer(request)
    statement = select(SavedAddress).where(SavedAddress.customer_id == customer.id)
    return keyset_page(request, request.dbsession, statement, SavedAddress, address_json)


@addresses.post(
    schema=strict(AddressBody),
    validators=(colander_body_validator,),
    permission=Permission.CUSTOMER_SELF,
    response_schemas=answers(201, AddressOut(), "The saved address."),
)
def address_create_view(request: Request) -> dict[str, Any]:
    """Save an address."""
    customer = _customer(request)
    row = SavedAddress(customer_id=customer.id, **request.validated)
    request.dbsession.add(row)
    request.dbsession.flush()
    request.response.status_code = 201
    return address_json(row)


@address.get(
    permission=Permission.CUSTOMER_SELF,
    response_schemas=answers(200, AddressOut(), "The saved address."),
)
def address_view(request: Request) -> dict[str, Any]:
    """One saved address (the owner's only; 404 to anyone else)."""
    return address_json(request.context.obj)


@address.patch(
    schema=strict(AddressPatchBody),
    validators=(colander_body_validator,),
    permission=Permission.CUSTOMER_SELF,
    response_schemas=answers(200, AddressOut(), "The saved address, changed."),
)
def address_patch_view(request: Request) -> dict[str, Any]:
    """Change a saved address: the parts sent, standardised; the rest as they were typed."""
    row = request.context.obj
    changes = dict(request.validated)
    typed = changes.pop("as_typed", {})
    if typed:
        row.as_typed = {**as_typed_of(row), **typed}  # a new dict: the JSON column sees it
    for name, value in changes.items():
        setattr(row, name, value)
    return address_json(row)


@address.delete(
    permission=Permission.CUSTOMER_SELF,
    response_schemas=answers(204, description="Deleted."),
)
def address_delete_view(request: Request) -> Response:
    """Delete a saved address (soft: bookings keep pointing at it)."""
    request.context.obj.soft_delete()
    return no_content(request)


# --- errors ----------------------------------------------------------------------------------


def identity_error_view(exc: IdentityError, request: Request) -> Response:
    location = "body"
    return json_error(request, exc.status, exc.field, exc.description, location)


def throttled_view(exc: Throttled, request: Request) -> Response:
    response = json_error(
        request,
        429,
        "throttled",
        f"Too many attempts; try again in {exc.retry_after} seconds.",
        "header",
    )
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


def forbidden_view(exc: HTTPForbidden, request: Request) -> Response:
    """401 before sign-in, 403 after, 404 for someone else's object; console pages in HTML."""
    context = getattr(request, "context", None)
    console = request.path.startswith("/console")
    identity = request.identity
    if isinstance(context, OwnedContext) and not (identity is not None and identity.is_staff):
        if console:
            return render_to_response(
                "totetaxi_core:console/templates/404.jinja2",
                {},
                request=request,
                response=Response(status=404),
            )
        from ..api.errors import http_exception_view

        return http_exception_view(context.not_found(), request)
    if request.identity is None:
        if console:
            return HTTPFound(
                location=request.route_url("console_login", _query={"next": request.path_qs})
            )
        response = json_error(
            request,
            401,
            "authorization",
            "Sign in first (session cookie or Authorization: Bearer).",
            "header",
        )
        response.headers["WWW-Authenticate"] = 'Bearer realm="totetaxi"'
        return response
    if console:
        return render_to_response(
            "totetaxi_core:console/templates/403.jinja2",
            {},
            request=request,
            response=Response(status=403),
        )
    return json_error(
        request, 403, "permission", "You are signed in but not allowed to do this.", "header"
    )


def bad_csrf_view(exc: Exception, request: Request) -> Response:
    if request.path.startswith("/console"):
        return render_to_response(
            "totetaxi_core:console/templates/403.jinja2",
            {
                "reason": "Your form expired or did not come from this site; "
                "reload the page and try again."
            },
            request=request,
            response=Response(status=403),
        )
    return json_error(
        request,
        403,
        "X-CSRF-Token",
        "Missing or wrong CSRF token: send the value of GET /api/v1/auth/csrf in "
        "the X-CSRF-Token header.",
        "header",
    )


def includeme(config: Configurator) -> None:
    from pyramid.exceptions import BadCSRFOrigin, BadCSRFToken

    config.add_exception_view(identity_error_view, context=IdentityError)
    config.add_exception_view(throttled_view, context=Throttled)
    config.add_forbidden_view(forbidden_view)
    config.add_exception_view(bad_csrf_view, context=BadCSRFToken)
    config.add_exception_view(bad_csrf_view, context=BadCSRFOrigin)
    config.scan(".api")
    config.scan(".staff_self")
