"""Bearer tokens: random, stored as SHA-256, expiring, revocable."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..db import utcnow
from .models import ApiToken, PrincipalKind
from .secrets import digest, new_token

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
    """The live (unexpired, unrevoked) token row for ``token``, or ``None``."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None
    row = dbsession.scalars(select(ApiToken).where(ApiToken.token_hash == digest(token))).first()
    now = utcnow()
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_EVERY:
        row.last_used_at = now
    return row


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
