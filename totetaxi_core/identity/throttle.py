"""Fixed-window throttles for logins, password resets and sign-ups.

Counters live outside the request's transaction (their own database transaction, or Redis):
a refused login answers 401, which rolls the request back, and the failure must still count.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, Protocol

import redis
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ..db import unit_of_work
from .models import ThrottleCounter
from .secrets import digest


class CounterBackend(Protocol):
    def count(self, key: str, window_start: int) -> int: ...
    def add(self, key: str, window_start: int, window_seconds: int) -> int: ...
    def forgive(self, key: str, window_start: int) -> None: ...
    def reset(self, key: str) -> None: ...


class DatabaseCounters:
    """Counters in ``throttle_counters``, each change in a transaction of its own."""

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self.session_factory = session_factory

    def count(self, key: str, window_start: int) -> int:
        with unit_of_work(self.session_factory) as (dbsession, _):
            row = dbsession.get(ThrottleCounter, key)
            return row.count if row is not None and row.window_start == window_start else 0

    def add(self, key: str, window_start: int, window_seconds: int) -> int:
        for _ in range(3):  # two first hits may race to insert the row
            try:
                with unit_of_work(self.session_factory) as (dbsession, _):
                    row = dbsession.get(ThrottleCounter, key, with_for_update=True)
                    if row is None:
                        row = ThrottleCounter(key=key, window_start=window_start, count=0)
                        dbsession.add(row)
                    elif row.window_start != window_start:
                        row.window_start, row.count = window_start, 0
                    row.count += 1
                    return row.count
            except IntegrityError:
                continue
        # Could not count: fail closed (the attempt is refused) rather than let it through.
        return 1 << 30

    def forgive(self, key: str, window_start: int) -> None:
        with unit_of_work(self.session_factory) as (dbsession, _):
            row = dbsession.get(ThrottleCounter, key, with_for_update=True)
            if row is not None and row.window_start == window_start and row.count > 0:
                row.count -= 1

    def reset(self, key: str) -> None:
        with unit_of_work(self.session_factory) as (dbsession, _):
            row = dbsession.get(ThrottleCounter, key)
            if row is not None:
                dbsession.delete(row)


_DECR_IF_POSITIVE = """
local value = tonumber(redis.call('GET', KEYS[1]) or '0')
if value > 0 then return redis.call('DECR', KEYS[1]) end
return 0
"""


class RedisCounters:
    """Counters in Redis: INCR with an expiry of one window."""

    def __init__(self, url: str, prefix: str = "tt:throttle:") -> None:
        self.redis = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3)
        self.prefix = prefix

    def count(self, key: str, window_start: int) -> int:
        value = self.redis.get(f"{self.prefix}{key}:{window_start}")
        return int(value) if value else 0

    def add(self, key: str, window_start: int, window_seconds: int) -> int:
        name = f"{self.prefix}{key}:{window_start}"
        pipe = self.redis.pipeline()
        pipe.incr(name)
        pipe.expire(name, window_seconds)
        return int(pipe.execute()[0])

    def forgive(self, key: str, window_start: int) -> None:
        # Only a counter that exists: one of a window that has ended must not go negative.
        self.redis.eval(_DECR_IF_POSITIVE, 1, f"{self.prefix}{key}:{window_start}")

    def reset(self, key: str) -> None:
        for name in self.redis.scan_iter(f"{self.prefix}{key}:*"):
            self.redis.delete(name)


@dataclass(frozen=True)
class Throttle:
    """At most ``limit`` hits per ``window_seconds`` for one subject (an email, an address)."""

    name: str
    limit: int
    window_seconds: int
    backend: Any

    def _window(self, now: float) -> int:
        return int(now // self.window_seconds) * self.window_seconds

    def _key(self, subject: str) -> str:
        return f"{self.name}:{digest(subject.lower())[:40]}"

    def retry_after(self, subject: str, now: float | None = None) -> int | None:
        """Seconds until ``subject`` may try again, or ``None`` when it may now."""
        now = time.time() if now is None else now
        start = self._window(now)
        if self.backend.count(self._key(subject), start) < self.limit:
            return None
        return max(1, math.ceil(start + self.window_seconds - now))

    def hit(self, subject: str, now: float | None = None) -> None:
        now = time.time() if now is None else now
        self.backend.add(self._key(subject), self._window(now), self.window_seconds)

    def admit(self, subject: str, now: float | None = None) -> int | None:
        """Count this attempt first, then judge it: seconds to wait when it is over the limit.

        Counting before the work (not after a failure) is what makes the limit hold under
        parallel attempts, and whatever happens to the request afterwards.
        """
        now = time.time() if now is None else now
        start = self._window(now)
        if self.backend.add(self._key(subject), start, self.window_seconds) <= self.limit:
            return None
        return max(1, math.ceil(start + self.window_seconds - now))

    def forgive(self, subject: str, now: float) -> None:
        """Take back the attempt :meth:`admit` counted at ``now``: it succeeded.

        Budgets such as the per-address one count failures; an office behind one address must
        not be locked out by its own staff signing in. Counting first and forgiving on success
        keeps the limit holding under parallel guesses.
        """
        self.backend.forgive(self._key(subject), self._window(now))

    def reset(self, subject: str) -> None:
        """Forget ``subject``'s attempts (a successful login clears its account's count)."""
        self.backend.reset(self._key(subject))


def admit(pairs: tuple[tuple[Throttle, str], ...], now: float | None = None) -> int | None:
    """Count one attempt against every (throttle, subject); the longest wait, or ``None``."""
    waits = [wait for throttle, subject in pairs if (wait := throttle.admit(subject, now))]
    return max(waits) if waits else None


def make_backend(settings: dict[str, Any], session_factory: sessionmaker[Session]) -> Any:
    if settings["totetaxi.state_backend"] == "redis":
        return RedisCounters(settings["totetaxi.redis_url"])
    return DatabaseCounters(session_factory)


@dataclass(frozen=True)
class Throttles:
    """The throttles the identity endpoints use, built from settings."""

    login_account: Throttle
    login_address: Throttle
    reset_account: Throttle
    reset_address: Throttle
    signup_address: Throttle

    @classmethod
    def from_settings(cls, settings: dict[str, Any], backend: Any) -> Throttles:
        window = settings["totetaxi.login_window_seconds"]
        return cls(
            login_account=Throttle(
                "login-account", settings["totetaxi.login_limit_per_account"], window, backend
            ),
            login_address=Throttle(
                "login-address", settings["totetaxi.login_limit_per_address"], window, backend
            ),
            reset_account=Throttle(
                "reset-account", settings["totetaxi.reset_limit_per_account"], 3600, backend
            ),
            reset_address=Throttle(
                "reset-address", settings["totetaxi.reset_limit_per_address"], 3600, backend
            ),
            signup_address=Throttle(
                "signup-address", settings["totetaxi.reset_limit_per_address"], 3600, backend
            ),
        )
