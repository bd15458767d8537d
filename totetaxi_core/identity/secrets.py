"""Random tokens and their stored digests."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from typing import Any


def new_token(prefix: str = "") -> str:
    """A random, URL-safe token with 256 bits of entropy."""
    return prefix + secrets.token_urlsafe(32)


def digest(token: str) -> str:
    """What the database stores instead of a token: its SHA-256, hex.

    A plain hash is enough (no salt, no slow KDF): the token is 256 random bits, not a password.
    """
    return hashlib.sha256(token.encode()).hexdigest()


def same(a: str, b: str) -> bool:
    """Constant-time comparison."""
    return hmac.compare_digest(a.encode(), b.encode())


def accepted_secrets(settings: Mapping[str, Any]) -> list[str]:
    """The secrets a signature or a sealed value may have been made with, newest first.

    ``totetaxi.secret`` signs and seals; ``totetaxi.previous_secrets`` (``TOTETAXI_PREVIOUS_
    SECRETS``) are still accepted when checking, so a rotation does not void at once what the
    previous secret made (a signed-out visitor's login form, a queued email's sealed link). Use
    the first to make, try them all to check, and drop the old ones once what they made has
    expired.
    """
    current = str(settings.get("totetaxi.secret") or "")
    accepted = [current] if current else []
    for previous in settings.get("totetaxi.previous_secrets") or ():
        if previous and previous not in accepted:
            accepted.append(str(previous))
    return accepted
