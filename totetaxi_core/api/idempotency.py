"""``Idempotency-Key`` on unsafe API requests (API.md): a retry gets the first answer.

How it works, and why this way:

* The key is claimed by inserting a row, unique per (caller, key), *inside the request's own
  transaction*, before the view runs. A twin request sent at the same moment blocks on that unique
  index until the first commits, then fails to insert and is replayed by pyramid_retry; its
  second attempt finds the finished record and answers with the stored response. So two
  concurrent requests with one key do the work once, and no "in progress" state can be left
  behind by a crash: the claim commits together with what the request wrote, or not at all.
* Only successful answers (below 400) are stored. A refused request wrote nothing (the commit
  veto of ``totetaxi_core.db``), so running it again with the same key is safe and may succeed
  once the cause is gone (a day that had no slot, a throttle that has cooled down).
* The same key with another method, path or body is 409, naming the header.
* Keys are scoped to the caller (``customer:<id>``, ``staff:<id>`` or ``anonymous``) and kept
  for ``totetaxi.idempotency_hours``; the hourly purge removes older ones.
* Stored answers can hold secrets (a guest's tracking token, a payment's client secret), so
  the table keeps only the key's SHA-256 and the answer encrypted (AES-GCM) with a key derived
  from the Idempotency-Key itself: a copy of the database cannot read them, only a client
  holding the key can have them replayed.

Views opt out with the view option ``idempotent=False`` (sign-in answers carry fresh
credentials, which must not be stored).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import uuid
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pyramid.config import Configurator
from pyramid.request import Request
from pyramid.response import Response
from pyramid_retry import RetryableException, is_last_attempt
from sqlalchemy import Integer, LargeBinary, String, Text, UniqueConstraint, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from ..context import Context
from ..db import Base, UTCDateTime, UUIDPrimaryKey, utcnow
from .errors import API_PREFIX, json_error

HEADER = "Idempotency-Key"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
KEY_PATTERN = re.compile(r"[\x21-\x7e]{1,255}")
PURGE_TASK = "api.purge_idempotency_records"
REPLAYED_HEADER = "Idempotent-Replayed"
#: Response headers worth giving back on a replay (cookies are never stored).
KEPT_HEADERS = ("Location", "Retry-After")


class IdempotencyRecord(UUIDPrimaryKey, Base):
    """A request made with an ``Idempotency-Key`` and the answer it got."""

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("scope", "key"),)

    scope: Mapped[str] = mapped_column(String(80))
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(500))
    status_code: Mapped[int] = mapped_column(Integer, default=0)
    content_type: Mapped[str] = mapped_column(String(100), default="")
    headers: Mapped[str] = mapped_column(Text, default="{}")
    body: Mapped[bytes] = mapped_column(LargeBinary, default=b"")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)


class KeyClaimedConcurrently(RetryableException):
    """Another request with the same key committed first: replay this one to answer as it did."""


def fingerprint(request: Request) -> str:
    """What must match for a retry: method, path with query, and the body (JSON canonicalised)."""
    raw = request.body or b""
    try:
        canonical = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, UnicodeDecodeError):
        canonical = raw
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.path_qs.encode(), canonical):
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()


def scope_of(request: Request) -> str:
    identity = request.identity
    return identity.userid if identity is not None else "anonymous"


def _cipher(key: str) -> AESGCM:
    return AESGCM(hashlib.sha256(b"totetaxi.idempotency.body:" + key.encode()).digest())


def seal(key: str, body: bytes) -> bytes:
    """Encrypt a stored answer under the client's Idempotency-Key."""
    nonce = os.urandom(12)
    return nonce + _cipher(key).encrypt(nonce, body, None)


def unseal(key: str, sealed: bytes) -> bytes:
    return _cipher(key).decrypt(sealed[:12], sealed[12:], None)


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _replay(record: IdempotencyRecord, key: str) -> Response:
    response = Response(status=record.status_code, body=unseal(key, record.body))
    response.content_type = record.content_type or None
    if record.status_code == 204:
        response.content_length = None  # as the first answer (``errors.no_content``)
    for name, value in json.loads(record.headers).items():
        response.headers[name] = value
    response.headers[REPLAYED_HEADER] = "true"
    return response


def _mismatch(request: Request) -> Response:
    return json_error(
        request,
        409,
        HEADER,
        (
            f"This {HEADER} was already used for a different request (another method, path or "
            "body); use a new key for a new request."
        ),
        "header",
    )


def idempotent_view(view: Callable[..., Response], info: Any) -> Callable[..., Response]:
    """View deriver: honour ``Idempotency-Key`` on unsafe ``/api/v1`` requests."""
    if info.options.get("idempotent") is False or not info.options.get("request_method"):
        # A view bound to no method is a fallback (Cornice's 405 for a method a service does
        # not have): claiming the key there would answer 409 for a reused key instead.
        return view

    def wrapper(context: Any, request: Request) -> Response:
        if getattr(request, "exception", None) is not None:
            # An exception view answering for the request's own view: the claim is the
            # request's; rendering the refusal must not look it up again.
            return view(context, request)
        key = request.headers.get(HEADER)
        if (
            key is None
            or request.method not in UNSAFE
            or not request.path.startswith(API_PREFIX + "/")
        ):
            return view(context, request)
        if not KEY_PATTERN.fullmatch(key):
            return json_error(
                request,
                400,
                HEADER,
                (f"{HEADER} must be 1 to 255 visible ASCII characters (a UUID is ideal)."),
                "header",
            )
        db = request.dbsession
        scope, print_ = scope_of(request), fingerprint(request)
        record = db.scalars(
            select(IdempotencyRecord).where(
                IdempotencyRecord.scope == scope, IdempotencyRecord.key == key_digest(key)
            )
        ).first()
        now = utcnow()
        if record is not None and record.expires_at <= now:
            db.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id == record.id))
            record = None
        if record is not None:
            return _replay(record, key) if record.fingerprint == print_ else _mismatch(request)
        hours = int(request.registry.settings.get("totetaxi.idempotency_hours", 24))
        record = IdempotencyRecord(
            id=uuid.uuid4(),
            scope=scope,
            key=key_digest(key),
            fingerprint=print_,
            method=request.method,
            path=request.path[:500],
            created_at=now,
            expires_at=now + dt.timedelta(hours=hours),
        )
        db.add(record)
        try:
            # The twin's unique-index wait happens here, before any of the view's work. No
            # savepoint: this attempt is over anyway, and pysqlite's savepoints are unreliable.
            db.flush()
        except IntegrityError as exc:
            raise KeyClaimedConcurrently(str(exc.orig)) from None
        response = view(context, request)
        if response.status_code < 400:
            record.status_code = response.status_code
            record.content_type = response.content_type or ""
            record.headers = json.dumps(
                {name: response.headers[name] for name in KEPT_HEADERS if name in response.headers}
            )
            record.body = seal(key, response.body or b"")
        return response

    return wrapper


idempotent_view.options = ("idempotent",)  # type: ignore[attr-defined]


def claim_form_token(request: Request, token: str, purpose: str) -> bool:
    """For console forms: ``True`` the first time ``token`` (a hidden field rendered with the
    form) is submitted by this caller, ``False`` on a resubmission (a double click, a reload).

    The claim is a row in the request's transaction, so a refused submission gives the token
    back; two submissions at once meet on the unique index and the second is replayed.
    """
    if not KEY_PATTERN.fullmatch(token or ""):
        return True  # no usable token: nothing to deduplicate on
    db = request.dbsession
    key = key_digest(f"form:{purpose}:{token}")
    scope = scope_of(request)
    if db.scalars(
        select(IdempotencyRecord.id).where(
            IdempotencyRecord.scope == scope, IdempotencyRecord.key == key
        )
    ).first():
        return False
    now = utcnow()
    hours = int(request.registry.settings.get("totetaxi.idempotency_hours", 24))
    db.add(
        IdempotencyRecord(
            id=uuid.uuid4(),
            scope=scope,
            key=key,
            fingerprint=key,
            method=request.method,
            path=request.path[:500],
            status_code=303,
            content_type="",
            headers="{}",
            body=b"",
            created_at=now,
            expires_at=now + dt.timedelta(hours=hours),
        )
    )
    try:
        db.flush()
    except IntegrityError as exc:
        raise KeyClaimedConcurrently(str(exc.orig)) from None
    return True


def purge_expired(ctx: Context) -> int:
    """Delete expired records; return how many went."""
    # Records are stamped with the wall clock (utcnow), not the app's clock: purge by it too.
    return ctx.dbsession.execute(
        delete(IdempotencyRecord).where(IdempotencyRecord.expires_at <= utcnow())
    ).rowcount


def claimed_view(exc: KeyClaimedConcurrently, request: Request) -> Response:
    if not is_last_attempt(request):
        return Response(status=409)  # discarded: pyramid_retry runs the request again
    response = json_error(
        request,
        409,
        HEADER,
        (
            f"A request with this {HEADER} is still being processed; retry in a moment to get "
            "its answer."
        ),
        "header",
    )
    response.headers["Retry-After"] = "1"
    return response


def includeme(config: Configurator) -> None:
    config.add_view_deriver(idempotent_view, name="idempotent")
    config.add_exception_view(claimed_view, context=KeyClaimedConcurrently)
    config.add_task(purge_expired, name=PURGE_TASK)
    config.add_periodic_task(PURGE_TASK, 3600, entry="idempotency-purge")
