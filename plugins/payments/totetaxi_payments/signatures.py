"""Stripe's webhook signature scheme, for gateways that sign their own events (the mock).

``Stripe-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<payload>" with the secret>``;
a receiver accepts any ``v1`` that matches and a timestamp within the tolerance (300 s).
The Stripe adapter verifies with the ``stripe`` library; tests check that both agree.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from .interfaces import SignatureError

TOLERANCE_SECONDS = 300


def _digest(secret: str, timestamp: int, payload: bytes) -> str:
    signed = f"{timestamp}.".encode() + payload
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header value for ``payload``."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    return f"t={timestamp},v1={_digest(secret, timestamp, payload)}"


def verify(
    payload: bytes,
    header: str | None,
    secret: str,
    tolerance: int = TOLERANCE_SECONDS,
    now: int | None = None,
) -> None:
    """Raise :class:`SignatureError` unless ``header`` signs ``payload`` recently enough."""
    if not header:
        raise SignatureError("The Stripe-Signature header is missing.")
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t":
            try:
                timestamp = int(value)
            except ValueError:
                raise SignatureError("The signature's timestamp is not a number.") from None
        elif name == "v1":
            candidates.append(value)
    if timestamp is None or not candidates:
        raise SignatureError("The Stripe-Signature header has no t= or no v1= part.")
    expected = _digest(secret, timestamp, payload)
    if not any(hmac.compare_digest(expected, candidate) for candidate in candidates):
        raise SignatureError("The signature does not match the payload.")
    now = int(time.time()) if now is None else now
    if timestamp < now - tolerance:  # as the stripe library: only too old is refused
        raise SignatureError(f"The signature is older than {tolerance} seconds.")
