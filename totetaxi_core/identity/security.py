"""The security policy: who the caller is, and what they may do (Pyramid 2).

Identity comes from a bearer token (``Authorization: Bearer tt_...``) when one is sent, else from
the session cookie. A token request never uses the cookie, and cookie requests must carry the
session's CSRF token on unsafe methods (see :func:`csrf_applies`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from pyramid.authorization import ACLHelper, Authenticated, Everyone
from pyramid.events import NewRequest
from pyramid.exceptions import BadCSRFOrigin
from pyramid.httpexceptions import HTTPUnsupportedMediaType
from pyramid.interfaces import ICSRFStoragePolicy
from pyramid.request import Request
from zope.interface import implementer

from ..origins import is_trusted, trusted_origins
from .models import ApiToken, Customer, PrincipalKind, Role, StaffUser
from .secrets import same
from .sessions import COOKIE_NAME, IDENTITY_KEY, SessionData, current
from .tokens import find, touch


@dataclass
class Identity:
    """The signed-in principal of a request."""

    principal: StaffUser | Customer
    via: str  # "session" or "token"
    session: SessionData | None = None
    token: ApiToken | None = None

    @property
    def kind(self) -> PrincipalKind:
        return self.principal.kind

    @property
    def id(self) -> uuid.UUID:
        return self.principal.id

    @property
    def is_staff(self) -> bool:
        return self.kind == PrincipalKind.STAFF

    @property
    def is_customer(self) -> bool:
        return self.kind == PrincipalKind.CUSTOMER

    @property
    def role(self) -> Role | None:
        return self.principal.role if self.is_staff else None

    @property
    def userid(self) -> str:
        return f"{self.kind}:{self.id}"


def signed_in_customer(request: Request) -> Customer | None:
    """The customer signed in on ``request``, or ``None`` (anonymous or staff)."""
    identity = request.identity
    return identity.principal if identity is not None and identity.is_customer else None


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def _load_principal(request: Request, kind: PrincipalKind, principal_id: uuid.UUID) -> Any:
    model = StaffUser if kind == PrincipalKind.STAFF else Customer
    principal = request.dbsession.get(model, principal_id)
    if principal is None or not principal.is_active:
        return None
    return principal


def session_of(request: Request) -> SessionData | None:
    """The request's session, loaded once (``None`` for token requests and no cookie)."""
    if "totetaxi.session" not in request.environ:
        request.environ["totetaxi.session"] = None if bearer_token(request) else current(request)
    return request.environ["totetaxi.session"]


class SecurityPolicy:
    """Bearer token, else session cookie; ACL permissions with role principals."""

    def __init__(self) -> None:
        self.acl = ACLHelper()

    def identity(self, request: Request) -> Identity | None:
        """The caller, looked up once per request (until a session starts or ends in it).

        Kept for the whole request: a password change revokes the very token it came with, and
        the rest of that request still answers that caller.
        """
        if IDENTITY_KEY not in request.environ:
            request.environ[IDENTITY_KEY] = self._identity(request)
        return request.environ[IDENTITY_KEY]

    def _identity(self, request: Request) -> Identity | None:
        token = bearer_token(request)
        if token is not None:
            row = find(request.dbsession, token)
            if row is None:
                return None
            principal = _load_principal(request, row.principal_kind, row.principal_id)
            if principal is None:
                return None
            touch(request.registry["dbsession_factory"], row)
            return Identity(principal, "token", token=row)
        data = session_of(request)
        if data is None or data.principal_kind is None or data.principal_id is None:
            return None
        principal = _load_principal(request, data.principal_kind, data.principal_id)
        return Identity(principal, "session", session=data) if principal is not None else None

    def authenticated_userid(self, request: Request) -> str | None:
        identity = request.identity
        return identity.userid if identity is not None else None

    def effective_principals(self, request: Request) -> list[str]:
        principals = [Everyone]
        identity = request.identity
        if identity is None:
            return principals
        principals += [Authenticated, str(identity.kind), identity.userid]
        if identity.is_staff:
            principals += [f"role:{r}" for r in Role if identity.role.includes(r)]
        return principals

    def permits(self, request: Request, context: Any, permission: str) -> Any:
        return self.acl.permits(context, self.effective_principals(request), permission)

    def remember(self, request: Request, userid: str, **kw: Any) -> list:
        return []  # sessions.start() sets the cookie

    def forget(self, request: Request, **kw: Any) -> list:
        return []  # sessions.end() clears it


UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def guard_unsafe_requests(event: NewRequest) -> None:
    """Refuse cross-site writes even where there is no cookie to check a token against.

    - An unsafe request whose ``Origin`` is neither this site, ``totetaxi.public_url`` nor one
      of ``totetaxi.trusted_origins`` is refused (login CSRF: a hostile page signing a victim
      into the attacker's account).
    - An unsafe API request with a body must be JSON: a cross-site HTML form cannot send
      ``application/json`` without a CORS preflight, which the API grants to the listed
      origins only (:mod:`totetaxi_core.ops.cors`).

    The CORS grant does not replace this check or the CSRF token: a listed site's page still
    sends ``X-CSRF-Token`` with a cookie-authenticated write.
    """
    request = event.request
    if request.method not in UNSAFE_METHODS:
        return
    origin = request.headers.get("Origin")
    if origin is not None and not is_trusted(
        origin, trusted_origins(request.registry.settings, request.host_url)
    ):
        raise BadCSRFOrigin(f"Requests from {origin} are not accepted.")
    if (
        request.path.startswith("/api/")
        and request.content_length
        and request.content_type != "application/json"
        and request.path not in getattr(request.registry, "any_body_paths", ())
    ):
        raise HTTPUnsupportedMediaType("Send JSON: Content-Type: application/json.")


def accept_any_body(config: Any, path: str, max_bytes: int | None = None) -> None:
    """Let unsafe requests to ``path`` carry a body that is not ``application/json``, and (with
    ``max_bytes``) one larger than ``totetaxi.max_body_bytes``.

    For webhooks whose sender cannot choose (Amazon SNS posts JSON as ``text/plain``) and for
    a signed file upload form (``multipart/form-data``, the local file storage). The JSON-only
    rule is a CSRF defence for credentialed requests; such a path must authenticate its caller
    by other means (a signature) and never act on a cookie.
    """
    config.registry.__dict__.setdefault("any_body_paths", set()).add(path)
    if max_bytes is not None:
        config.registry.__dict__.setdefault("body_limits", {})[path] = int(max_bytes)


def csrf_applies(request: Request) -> bool:
    """CSRF protects cookie-authenticated requests; bearer-token requests carry no ambient
    credential and are exempt. A request without the session cookie has nothing to forge."""
    return bearer_token(request) is None and COOKIE_NAME in request.cookies


@implementer(ICSRFStoragePolicy)
class SessionCSRFStoragePolicy:
    """The CSRF token is the session's; a request with no session has none."""

    def new_csrf_token(self, request: Request) -> str:
        from .sessions import start

        return start(request).csrf_token

    def get_csrf_token(self, request: Request) -> str:
        data = session_of(request)
        return data.csrf_token if data is not None else self.new_csrf_token(request)

    def check_csrf_token(self, request: Request, supplied_token: str) -> bool:
        data = session_of(request)
        return data is not None and bool(supplied_token) and same(data.csrf_token, supplied_token)
