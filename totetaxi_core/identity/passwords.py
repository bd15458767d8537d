"""Password hashing (argon2id) and strength rules."""

from __future__ import annotations

import re

from argon2 import PasswordHasher, Type, extract_parameters
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 10
MAX_LENGTH = 256  # argon2 copes with more; this bounds the work an attacker can ask for

#: argon2 parameters per ``totetaxi.password_hash_profile``. ``production`` is argon2-cffi's
#: RFC 9106 low-memory profile (t=3, m=64 MiB, p=4, ~275 ms here); ``fast`` exists only so the
#: test suite does not spend most of its time hashing, and production refuses it
#: (:func:`totetaxi_core.settings.check_password_profile`).
PROFILES: dict[str, dict[str, int]] = {
    "production": {"time_cost": 3, "memory_cost": 65536, "parallelism": 4},
    "fast": {"time_cost": 1, "memory_cost": 8, "parallelism": 1},
}
_DUMMY_PASSWORD = "not a real password: timing equaliser 7f3a9c"  # noqa: S105

_hasher = PasswordHasher(**PROFILES["production"])
_profile = "production"

#: A hash of a random password, verified against when an email is unknown, so that an
#: unknown account costs the same time as a wrong password (no enumeration by timing). Made on
#: first use, not at import: every process (CLI, worker) would otherwise pay one full hash.
_DUMMY_HASH: str | None = None


def _dummy_hash() -> str:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = _hasher.hash(_DUMMY_PASSWORD)
    return _DUMMY_HASH


def use_profile(name: str) -> None:
    """Hash and verify with the parameters of profile ``name`` (``production`` or ``fast``).

    Called at start-up from the ``totetaxi.password_hash_profile`` setting. The hasher is
    process-wide; switching is cheap when the profile does not change.
    """
    global _hasher, _DUMMY_HASH, _profile
    if name == _profile:
        return
    _hasher = PasswordHasher(**PROFILES[name])
    _DUMMY_HASH = None  # the timing equaliser follows the profile
    _profile = name


def current_parameters() -> dict[str, int]:
    """The argon2 parameters new hashes are made with (time_cost, memory_cost, parallelism)."""
    return {
        "time_cost": _hasher.time_cost,
        "memory_cost": _hasher.memory_cost,
        "parallelism": _hasher.parallelism,
    }


COMMON = frozenset(
    {
        "password",
        "password1",
        "password12",
        "password123",
        "passw0rd",
        "qwerty",
        "qwertyuiop",
        "123456",
        "12345678",
        "123456789",
        "1234567890",
        "iloveyou",
        "letmein",
        "welcome",
        "admin",
        "administrator",
        "totetaxi",
        "hamptons",
        "manhattan",
        "changeme",
        "secret",
        "football",
        "baseball",
        "sunshine",
        "princess",
        "dragon",
        "monkey",
        "trustno1",
    }
)


def hash_password(password: str) -> str:
    """An argon2id hash of ``password`` with the current parameters."""
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> tuple[bool, str | None]:
    """Check ``password`` against ``stored_hash``.

    Returns ``(ok, new_hash)``: ``new_hash`` is set when the password was right but the hash was
    made with older parameters, so the caller can store the rehash. A ``None`` hash (unknown
    account) is checked against a dummy hash to take the same time, and always fails.
    """
    if len(password) > MAX_LENGTH:
        return False, None
    try:
        _hasher.verify(stored_hash or _dummy_hash(), password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False, None
    if stored_hash is None:
        return False, None
    if _weaker_than_current(stored_hash):
        return True, _hasher.hash(password)
    return True, None


def _weaker_than_current(stored_hash: str) -> bool:
    """Whether ``stored_hash`` was made with less work than the current parameters ask for.

    Upgrade only, never downgrade: a process running a cheaper profile (the test suite's
    ``fast``) must not rewrite a full-cost hash it verifies into a cheap one.
    """
    try:
        stored = extract_parameters(stored_hash)
    except InvalidHashError:
        return True
    current = _hasher
    return (
        stored.type is not Type.ID
        or stored.version < 19
        or stored.time_cost < current.time_cost
        or stored.memory_cost < current.memory_cost
        or stored.hash_len < current.hash_len
        or stored.salt_len < current.salt_len
    )


def password_problem(password: str, *, email: str = "", names: tuple[str, ...] = ()) -> str | None:
    """Why ``password`` is too weak, as a sentence, or ``None`` when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    lowered = password.lower()
    core = re.sub(r"[\d\W_]+$", "", lowered)  # "Password2024!" is still "password"
    if lowered in COMMON or core in COMMON:
        return "This password is too common; choose one that is hard to guess."
    if len(set(password)) < 5:
        return "Use more different characters."
    # Digits alone (a phone number, a date, a PIN) fall to a search of the digit space.
    if password.isascii() and password.isdigit():
        return "Use letters or symbols too, not only digits."
    local = email.split("@")[0].lower()
    if local and len(local) >= 4 and local in lowered:
        return "Do not use your email address in your password."
    for name in names:
        if name and len(name) >= 4 and name.lower() in lowered:
            return "Do not use your name in your password."
    return None


def rehash_parameters(hasher: PasswordHasher) -> None:
    """Switch to other argon2 parameters (tests use it to prove rehash on login)."""
    global _hasher, _profile, _DUMMY_HASH
    _hasher = hasher
    _DUMMY_HASH = None
    _profile = "custom"
