"""Removing what has expired: sessions, tokens, reset links, old throttle windows.

Run hourly by ``totetaxi beat`` (task ``identity.purge_expired``); safe to run any time.
"""

from __future__ import annotations

import datetime as dt
import time

from sqlalchemy import delete, or_

from ..context import Context
from .models import ApiToken, AuthSession, PasswordResetToken, ThrottleCounter

PURGE_TASK = "identity.purge_expired"
KEEP_DEAD_TOKENS = dt.timedelta(days=30)  # revoked/expired tokens stay a while for support


def purge_expired(ctx: Context) -> dict[str, int]:
    """Delete expired rows; return how many of each kind went."""
    now = ctx.now()
    db = ctx.dbsession
    counts = {
        "sessions": db.execute(delete(AuthSession).where(AuthSession.expires_at <= now)),
        "tokens": db.execute(
            delete(ApiToken).where(
                or_(
                    ApiToken.expires_at <= now - KEEP_DEAD_TOKENS,
                    ApiToken.revoked_at <= now - KEEP_DEAD_TOKENS,
                )
            )
        ),
        "reset_tokens": db.execute(
            delete(PasswordResetToken).where(
                PasswordResetToken.expires_at <= now - dt.timedelta(days=1)
            )
        ),
        "throttle_counters": db.execute(
            delete(ThrottleCounter).where(ThrottleCounter.window_start <= int(time.time()) - 86400)
        ),
    }
    return {name: result.rowcount for name, result in counts.items()}
