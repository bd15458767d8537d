"""Secret template variables (a password-reset link, a guest's tracking link) at rest.

A notification's context is kept in the database until it is sent; a copy of the database must
not yield working links. Secret values are sealed with AES-GCM under a key derived from
``totetaxi.secret``, and replaced by a placeholder once the email is sent.

Opening tries every accepted secret (``accepted_secrets``: the current one, then
``totetaxi.previous_secrets``), so an email queued before a rotation of the secret still goes out
with its link.
"""

from __future__ import annotations

import base64
import hashlib
import os
import urllib.parse
from collections.abc import Sequence
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SEALED = "_sealed"  # the context key holding ``{name: token}``
REDACTED = "[link removed after sending]"


class Unsealable(Exception):
    """The secret cannot be opened (``totetaxi.secret`` changed since it was sealed)."""


def _cipher(secret: str) -> AESGCM:
    return AESGCM(hashlib.sha256(b"totetaxi.notifications.seal:" + secret.encode()).digest())


def seal(secret: str, value: str) -> str:
    nonce = os.urandom(12)
    return base64.urlsafe_b64encode(
        nonce + _cipher(secret).encrypt(nonce, value.encode(), None)
    ).decode()


def unseal(secret: str | Sequence[str], token: str) -> str:
    """The value sealed in ``token`` by ``secret`` (or by any of a list of accepted secrets)."""
    keys = [secret] if isinstance(secret, str) else list(secret)
    try:
        raw = base64.urlsafe_b64decode(token.encode())
    except ValueError:
        raise Unsealable("the sealed value is damaged") from None
    for key in keys:
        try:
            return _cipher(key).decrypt(raw[:12], raw[12:], None).decode()
        except (InvalidTag, ValueError):
            continue
    raise Unsealable("the secret changed since this email was queued")


def _set(variables: dict[str, Any], dotted: str, value: Any) -> None:
    *path, last = dotted.split(".")
    for part in path:
        variables = variables.setdefault(part, {})
    variables[last] = value


def opened(context: dict[str, Any], secret: str | Sequence[str]) -> dict[str, Any]:
    """The variables with every sealed value in place (for sending)."""
    variables = {k: v for k, v in context.items() if k != SEALED}
    variables = _copy(variables)
    for dotted, token in (context.get(SEALED) or {}).items():
        _set(variables, dotted, unseal(secret, token))
    return variables


def redacted(context: dict[str, Any]) -> dict[str, Any]:
    """The variables with every sealed value replaced by a placeholder (for keeping)."""
    variables = _copy({k: v for k, v in context.items() if k != SEALED})
    for dotted in context.get(SEALED) or {}:
        _set(variables, dotted, REDACTED)
    return variables


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def secrets_of(context: dict[str, Any], secret: str | Sequence[str]) -> list[str]:
    """The plain secret values of ``context`` (to scrub them from error messages)."""
    found = []
    for token in (context.get(SEALED) or {}).values():
        try:
            found.append(unseal(secret, token))
        except (Unsealable, ValueError):
            continue
    return found


def scrub(text: str, secrets: list[str]) -> str:
    """``text`` with every secret value (and its URL-quoted form) replaced by a placeholder."""
    for value in secrets:
        for form in {value, urllib.parse.quote(value, safe=""), urllib.parse.quote(value)}:
            if form:
                text = text.replace(form, REDACTED)
    return text
