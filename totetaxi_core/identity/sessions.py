"""Server-side sessions: in the database (embedded default) or Redis (production).

The cookie carries a random key; the store keeps its SHA-256, the principal and the session's
CSRF token. Logging in always starts a new session (the id rotates); logging out, changing or
resetting the password ends sessions.

An anonymous session only holds the CSRF token of a login form, so it is stored nowhere: its
cookie carries the token itself, with the time it was issued and an HMAC under
``totetaxi.secret`` (``anon.<issued>.<token>.<mac>``). A visitor costs no stored row until it
signs in (200 ``HEAD /console/login`` used to leave 200 rows).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import uuid
from dataclasses import dataclass
from typing import Any, Protocol

import redis
from pyramid.registry import Registry
from pyramid.request import Request
from pyramid.response import Response
from sqlalchemy import delete
from sqlalchemy.orm import Session

from ..db import unit_of_work, utcnow
from .models import AuthSession, PrincipalKind
from .secrets import accepted_secrets, digest, new_token, same

COOKIE_NAME = "tt_session"
TOUCH_EVERY = dt.timedelta(minutes=5)
ANONYMOUS_MAX_AGE = dt.timedelta(hours=2)
ANONYMOUS_PREFIX = "anon."
#: Where the security policy keeps the request's identity; a session starting or ending drops it.
IDENTITY_KEY = "totetaxi.identity"

log = logging.getLogger("totetaxi.sessions")


@dataclass
class SessionData:
    """One session as the stores hand it around."""

    key_hash: str
    principal_kind: PrincipalKind | None
    principal_id: uuid.UUID | None
    csrf_token: str
    created_at: dt.datetime
    last_seen_at: dt.datetime
    expires_at: dt.datetime
    client_addr: str = ""
    user_agent: str = ""


class SessionStore(Protocol):
    """Where sessions live."""

    def save(self, dbsession: Session, data: SessionData) -> None: ...
    def load(self, dbsession: Session, key_hash: str) -> SessionData | None: ...
    def delete(self, dbsession: Session, key_hash: str) -> None: ...
    def delete_for(
        self,
        dbsession: Session,
        kind: PrincipalKind,
        principal_id: uuid.UUID,
        keep: str | None = None,
    ) -> None: ...


class DatabaseSessionStore:
    """Sessions in ``auth_sessions``, written in the request's transaction."""

    def save(self, dbsession: Session, data: SessionData) -> None:
        row = dbsession.get(AuthSession, data.key_hash)
        if row is None:
            row = AuthSession(key_hash=data.key_hash)
            dbsession.add(row)
        for name in (
            "principal_kind",
            "principal_id",
            "csrf_token",
            "created_at",
            "last_seen_at",
            "expires_at",
            "client_addr",
            "user_agent",
        ):
            setattr(row, name, getattr(data, name))

    def load(self, dbsession: Session, key_hash: str) -> SessionData | None:
        row = dbsession.get(AuthSession, key_hash)
        if row is None:
            return None
        return SessionData(
            key_hash=row.key_hash,
            principal_kind=row.principal_kind,
            principal_id=row.principal_id,
            csrf_token=row.csrf_token,
            created_at=row.created_at,
            last_seen_at=row.last_seen_at,
            expires_at=row.expires_at,
            client_addr=row.client_addr,
            user_agent=row.user_agent,
        )

    def delete(self, dbsession: Session, key_hash: str) -> None:
        dbsession.execute(delete(AuthSession).where(AuthSession.key_hash == key_hash))

    def delete_for(
        self,
        dbsession: Session,
        kind: PrincipalKind,
        principal_id: uuid.UUID,
        keep: str | None = None,
    ) -> None:
        statement = delete(AuthSession).where(
            AuthSession.principal_kind == kind, AuthSession.principal_id == principal_id
        )
        if keep is not None:
            statement = statement.where(AuthSession.key_hash != keep)
        dbsession.execute(statement)


class RedisSessionStore:
    """Sessions in Redis with a TTL, plus a set per principal to end them all at once.

    Redis writes are not part of the database transaction; a login whose request later fails
    leaves a session nobody holds the key of, which expires on its own.
    """

    def __init__(self, url: str, prefix: str = "tt:") -> None:
        self.redis = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3)
        self.prefix = prefix

    def _key(self, key_hash: str) -> str:
        return f"{self.prefix}session:{key_hash}"

    def _index(self, kind: PrincipalKind, principal_id: uuid.UUID) -> str:
        return f"{self.prefix}sessions-of:{kind}:{principal_id}"

    def save(self, dbsession: Session, data: SessionData) -> None:
        document = {
            "principal_kind": data.principal_kind and str(data.principal_kind),
            "principal_id": data.principal_id and str(data.principal_id),
            "csrf_token": data.csrf_token,
            "created_at": data.created_at.isoformat(),
            "last_seen_at": data.last_seen_at.isoformat(),
            "expires_at": data.expires_at.isoformat(),
            "client_addr": data.client_addr,
            "user_agent": data.user_agent,
        }
        ttl = max(1, int((data.expires_at - utcnow()).total_seconds()))
        pipe = self.redis.pipeline()
        pipe.set(self._key(data.key_hash), json.dumps(document), ex=ttl)
        if data.principal_kind and data.principal_id:
            index = self._index(data.principal_kind, data.principal_id)
            pipe.sadd(index, data.key_hash)
            pipe.expire(index, ttl)
        pipe.execute()

    def load(self, dbsession: Session, key_hash: str) -> SessionData | None:
        raw = self.redis.get(self._key(key_hash))
        if raw is None:
            return None
        d = json.loads(raw)
        return SessionData(
            key_hash=key_hash,
            principal_kind=PrincipalKind(d["principal_kind"]) if d["principal_kind"] else None,
            principal_id=uuid.UUID(d["principal_id"]) if d["principal_id"] else None,
            csrf_token=d["csrf_token"],
            created_at=dt.datetime.fromisoformat(d["created_at"]),
            last_seen_at=dt.datetime.fromisoformat(d["last_seen_at"]),
            expires_at=dt.datetime.fromisoformat(d["expires_at"]),
            client_addr=d.get("client_addr", ""),
            user_agent=d.get("user_agent", ""),
        )

    def delete(self, dbsession: Session, key_hash: str) -> None:
        self.redis.delete(self._key(key_hash))

    def delete_for(
        self,
        dbsession: Session,
        kind: PrincipalKind,
        principal_id: uuid.UUID,
        keep: str | None = None,
    ) -> None:
        index = self._index(kind, principal_id)
        hashes = [h.decode() for h in self.redis.smembers(index)]
        doomed = [h for h in hashes if h != keep]
        if doomed:
            self.redis.delete(*[self._key(h) for h in doomed])
            self.redis.srem(index, *doomed)


def make_store(settings: dict[str, Any]) -> SessionStore:
    if settings["totetaxi.state_backend"] == "redis":
        return RedisSessionStore(settings["totetaxi.redis_url"])
    return DatabaseSessionStore()


def _store(registry: Registry) -> SessionStore:
    return registry.session_store


def _anonymous_mac(registry: Registry, body: str, secret: str | None = None) -> str:
    key = (secret or registry.settings["totetaxi.secret"]).encode()
    return hmac.new(key, f"anonymous-session:{body}".encode(), hashlib.sha256).hexdigest()


def _signed_by_an_accepted_secret(registry: Registry, body: str, mac: str) -> bool:
    # Made with the current secret, or with one it replaced (a rotation's overlap): a visitor
    # whose login form was served before the rotation can still sign in with it.
    return any(
        same(mac, _anonymous_mac(registry, body, secret))
        for secret in accepted_secrets(registry.settings)
    )


def _anonymous_key(registry: Registry, csrf_token: str, issued: dt.datetime) -> str:
    body = f"{int(issued.timestamp())}.{csrf_token}"
    return f"{ANONYMOUS_PREFIX}{body}.{_anonymous_mac(registry, body)}"


def _anonymous(registry: Registry, key: str) -> SessionData | None:
    """The anonymous session a signed cookie carries, or ``None`` (forged, damaged, expired)."""
    body, _, mac = key[len(ANONYMOUS_PREFIX) :].rpartition(".")
    stamp, _, csrf_token = body.partition(".")
    if not (stamp.isdigit() and csrf_token and _signed_by_an_accepted_secret(registry, body, mac)):
        return None
    issued = dt.datetime.fromtimestamp(int(stamp), dt.UTC)
    if issued + ANONYMOUS_MAX_AGE <= utcnow():
        return None
    return _anonymous_data(key, csrf_token, issued)


def _anonymous_data(key: str, csrf_token: str, issued: dt.datetime) -> SessionData:
    return SessionData(
        key_hash=digest(key),
        principal_kind=None,
        principal_id=None,
        csrf_token=csrf_token,
        created_at=issued,
        last_seen_at=issued,
        expires_at=issued + ANONYMOUS_MAX_AGE,
    )


def current(request: Request) -> SessionData | None:
    """The request's live session (anonymous or signed in), or ``None``."""
    key = request.cookies.get(COOKIE_NAME)
    if not key:
        return None
    if key.startswith(ANONYMOUS_PREFIX):
        return _anonymous(request.registry, key)
    data = _store(request.registry).load(request.dbsession, digest(key))
    if data is None or data.expires_at <= utcnow():
        return None
    now = utcnow()
    if now - data.last_seen_at > TOUCH_EVERY:
        data.last_seen_at = now
        data.expires_at = now + _max_age(request.registry, data)
        _refresh(request.registry, data)
    return data


def _max_age(registry: Registry, data: SessionData) -> dt.timedelta:
    if data.principal_kind is None:
        return ANONYMOUS_MAX_AGE  # only holds a CSRF token for a login form
    return dt.timedelta(seconds=registry.settings["totetaxi.session_max_age_seconds"])


def _refresh(registry: Registry, data: SessionData) -> None:
    # In a short transaction of its own: the request's transaction must not hold SQLite's write
    # lock from its first statement (throttle counters write on another connection), and a 4xx
    # answer must not undo the refresh.
    store = _store(registry)
    try:
        if isinstance(store, DatabaseSessionStore):
            with unit_of_work(registry["dbsession_factory"]) as (dbsession, _):
                store.save(dbsession, data)
        else:
            store.save(None, data)
    except Exception:
        log.warning("could not refresh session %s...", data.key_hash[:8], exc_info=True)


def _set_cookie(request: Request, key: str | None, max_age: int | None = None) -> None:
    settings = request.registry.settings

    def callback(request: Request, response: Response) -> None:
        if key is None:
            response.delete_cookie(COOKIE_NAME, path="/")
            return
        response.set_cookie(
            COOKIE_NAME,
            key,
            max_age=max_age or settings["totetaxi.session_max_age_seconds"],
            path="/",
            httponly=True,
            samesite="Lax",
            secure=settings["totetaxi.cookie_secure"],
        )

    request.add_response_callback(callback)


def start(
    request: Request, kind: PrincipalKind | None = None, principal_id: uuid.UUID | None = None
) -> SessionData:
    """Begin a new session (ending the request's current one) and set its cookie.

    Called with a principal at login: the session id always changes then, so a key planted
    before login (session fixation) is worthless afterwards.
    """
    old = request.cookies.get(COOKIE_NAME)
    store = _store(request.registry)
    if old and not old.startswith(ANONYMOUS_PREFIX):
        store.delete(request.dbsession, digest(old))
    now = utcnow()
    if kind is None:
        csrf_token = new_token()
        key = _anonymous_key(request.registry, csrf_token, now)
        data = _anonymous_data(key, csrf_token, now)
        _set_cookie(request, key, int(ANONYMOUS_MAX_AGE.total_seconds()))
        _now_current(request, data)
        return data
    key = new_token()
    data = SessionData(
        key_hash=digest(key),
        principal_kind=kind,
        principal_id=principal_id,
        csrf_token=new_token(),
        created_at=now,
        last_seen_at=now,
        expires_at=now
        + dt.timedelta(seconds=request.registry.settings["totetaxi.session_max_age_seconds"]),
        client_addr=(request.client_addr or "")[:64],
        user_agent=request.user_agent[:255] if request.user_agent else "",
    )
    store.save(request.dbsession, data)
    _set_cookie(request, key)
    _now_current(request, data)
    return data


def _now_current(request: Request, data: SessionData | None) -> None:
    """Make ``data`` the request's session; the caller is now this session's (or nobody)."""
    request.environ["totetaxi.session"] = data
    request.environ.pop(IDENTITY_KEY, None)


def end(request: Request) -> None:
    """End the request's session and clear its cookie."""
    key = request.cookies.get(COOKIE_NAME)
    if key and not key.startswith(ANONYMOUS_PREFIX):
        _store(request.registry).delete(request.dbsession, digest(key))
    _set_cookie(request, None)
    _now_current(request, None)


def end_all(
    request: Request, kind: PrincipalKind, principal_id: uuid.UUID, keep: str | None = None
) -> None:
    """End every session of a principal (password change or reset), except ``keep``."""
    _store(request.registry).delete_for(request.dbsession, kind, principal_id, keep=keep)
