"""Bearer tokens: random, stored as SHA-256, expiring, revocable."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from ..db import unit_of_work, utcnow
from .models import ApiToken, PrincipalKind
from .secrets import digest, new_token

log = logging.getLogger(__name__)

TOKEN_PREFIX = "tt_"  # noqa: S105 - a marker, not a secret
LAST_USED_EVERY = dt.timedelta(minutes=1)


def issue(
    dbsession: Session,
    kind: PrincipalKind,
    principal_id: uuid.UUID,
    max_age_seconds: int,
    name: str = "",
) -> tuple[str, ApiToken]:
    """A new token for a principal: returns the token (shown once) and its row."""
    token = new_token(TOKEN_PREFIX)
    now = utcnow()
    row = ApiToken(
        token_hash=digest(token),
        principal_kind=kind,
        principal_id=principal_id,
        name=name,
        created_at=now,
        expires_at=now + dt.timedelta(seconds=max_age_seconds),
    )
    dbsession.add(row)
    return token, row


def find(dbsession: Session, token: str) -> ApiToken | None:
    """The live (unexpired, unrevoked) token row for ``token``, or ``None``.

    Reads only: :func:`touch` records the use, outside the request's transaction.
    """
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None
    row = dbsession.scalars(select(ApiToken).where(ApiToken.token_hash == digest(token))).first()
    if row is None or row.revoked_at is not None or row.expires_at <= utcnow():
        return None
    return row


def touch(dbsession_factory: Any, row: ApiToken) -> None:
    """Record that ``row`` was used (at most once a minute), in a short transaction of its own.

    Written inside the request's transaction, a token's first use would take SQLite's write lock
    from the request's first statement, and the throttle's counters (their own connection) would
    then wait for it until ``database is locked``; a 4xx answer would also undo the record.
    """
    now = utcnow()
    if row.last_used_at is not None and now - row.last_used_at <= LAST_USED_EVERY:
        return
    try:
        with unit_of_work(dbsession_factory) as (dbsession, _):
            dbsession.execute(
                update(ApiToken).where(ApiToken.id == row.id).values(last_used_at=now)
            )
    except Exception:
        log.warning("could not record the use of token %s", row.id, exc_info=True)
        return
    set_committed_value(row, "last_used_at", now)


def revoke(dbsession: Session, row: ApiToken) -> None:
    row.revoked_at = utcnow()


def revoke_all(dbsession: Session, kind: PrincipalKind, principal_id: uuid.UUID) -> None:
    """Revoke every live token of a principal (password reset, account disabled)."""
    dbsession.execute(
        update(ApiToken)
        .where(
            ApiToken.principal_kind == kind,
            ApiToken.principal_id == principal_id,
            ApiToken.revoked_at.is_(None),
        )
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )
