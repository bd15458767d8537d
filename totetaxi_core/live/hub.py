"""One live process's subscribers, and the fan-out of each event to those that may read it.

Every event has an id, ``<milliseconds>-<sequence>`` (a Redis stream id: Redis assigns it in
production, :class:`EventIds` in-process), increasing with time; a client reconnects with the
last id it saw and is sent what it missed from the per-stream replay buffers.

**Back-pressure.** The fan-out never waits on a client: it appends the event to each
subscriber's own queue (:meth:`Subscriber.offer`) and moves on. A subscriber whose queue is
full (a slow or stalled client: its socket's buffer full, so its sender waits) is dropped at
once, its queue cleared; its connection is closed and the client reconnects with its last id.
Memory per subscriber is bounded by the queue's length; one slow client never delays the rest.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

#: An event id as clients send it back (``Last-Event-ID``, ``?last_event_id=``).
EVENT_ID = re.compile(r"(\d{1,15})-(\d{1,9})")

Key = tuple[int, int]


def parse_id(value: str) -> Key | None:
    """``"1764000000000-3"`` → ``(1764000000000, 3)``; ``None`` when it is not an event id."""
    match = EVENT_ID.fullmatch(value)
    return (int(match[1]), int(match[2])) if match else None


def format_id(key: Key) -> str:
    return f"{key[0]}-{key[1]}"


class EventIds:
    """Increasing ids in one process (the embedded default; Redis assigns them in production)."""

    def __init__(self) -> None:
        self._last: Key = (0, 0)
        self._lock = threading.Lock()

    def next(self) -> Key:
        with self._lock:
            now = int(time.time() * 1000)
            last_ms, last_seq = self._last
            self._last = (now, 0) if now > last_ms else (last_ms, last_seq + 1)
            return self._last


@dataclass(eq=False)
class Event:
    """An event as a live process holds it: its id, streams and the texts sent to clients,
    made once per event (not once per subscriber)."""

    key: Key
    type: str
    streams: tuple[str, ...]
    data: dict[str, Any]
    at: str

    @property
    def id(self) -> str:
        return format_id(self.key)

    @cached_property
    def message(self) -> str:
        """The WebSocket text frame: ``{"id", "type", "at", "data"}`` (no streams: a guest need
        not learn the customer's id)."""
        return json.dumps({"id": self.id, "type": self.type, "at": self.at, "data": self.data})

    @cached_property
    def sse(self) -> bytes:
        """The Server-Sent Events frame: the same JSON as ``data``, the type as ``event``."""
        return f"id: {self.id}\nevent: {self.type}\ndata: {self.message}\n\n".encode()

    @classmethod
    def from_payload(cls, key: Key, payload: dict[str, Any], at: str) -> Event:
        return cls(key, payload["type"], tuple(payload["streams"]), payload["data"], at)


class Dropped(Exception):
    """The subscriber fell too far behind and was dropped (its client reconnects)."""


@dataclass(eq=False)
class Subscriber:
    """One connection's subscription: its streams, its own bounded queue, where it is."""

    principal: str
    streams: frozenset[str]
    limit: int
    pending: deque[Event] = field(default_factory=deque)
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    dropped: bool = False
    resync: bool = False
    last: Key = (0, 0)

    def offer(self, event: Event) -> None:
        """Queue ``event`` (the fan-out; on the event loop). Never waits: a full queue drops
        the subscriber."""
        if self.dropped:
            return
        if len(self.pending) >= self.limit:
            self.dropped = True
            self.pending.clear()
        else:
            self.pending.append(event)
        self.ready.set()

    def ask_resync(self) -> None:
        """Events may have been missed (the bus reconnected): tell the client to read again."""
        self.resync = True
        self.ready.set()

    def take(self) -> list[Event]:
        """The queued events not sent yet, oldest first; raises :class:`Dropped`."""
        if self.dropped:
            raise Dropped
        events = []
        while self.pending:
            event = self.pending.popleft()
            if event.key > self.last:  # a replayed event may come again from the bus
                events.append(event)
        self.ready.clear()
        return events


class Hub:
    """The subscribers of this process by stream, and their connection counts by principal."""

    def __init__(self) -> None:
        self.by_stream: dict[str, set[Subscriber]] = {}
        self.per_principal: dict[str, int] = {}
        self.loop: asyncio.AbstractEventLoop | None = None
        #: The newest event handed to the subscribers: everything up to it has been offered.
        self.position: Key = (0, 0)
        self.delivered = 0
        #: Subscribers dropped for falling behind.
        self.dropped = 0

    @property
    def subscribers(self) -> int:
        return sum(self.per_principal.values())

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop

    def admit(self, principal: str, limit: int) -> bool:
        """Count a connection of ``principal``; False when it has ``limit`` open already."""
        if self.per_principal.get(principal, 0) >= limit:
            return False
        self.per_principal[principal] = self.per_principal.get(principal, 0) + 1
        return True

    def release(self, principal: str) -> None:
        left = self.per_principal.get(principal, 0) - 1
        if left > 0:
            self.per_principal[principal] = left
        else:
            self.per_principal.pop(principal, None)

    def add(self, subscriber: Subscriber) -> None:
        for stream in subscriber.streams:
            self.by_stream.setdefault(stream, set()).add(subscriber)

    def remove(self, subscriber: Subscriber) -> None:
        for stream in subscriber.streams:
            subscribers = self.by_stream.get(stream)
            if subscribers is not None:
                subscribers.discard(subscriber)
                if not subscribers:
                    del self.by_stream[stream]

    def deliver(self, events: Iterable[Event]) -> None:
        """Offer each event to every subscriber of one of its streams, once each (on the loop)."""
        for event in events:
            targets: set[Subscriber] = set()
            for stream in event.streams:
                targets.update(self.by_stream.get(stream, ()))
            for subscriber in targets:
                if subscriber.dropped:
                    continue
                subscriber.offer(event)
                if subscriber.dropped:
                    self.dropped += 1
            self.delivered += len(targets)
            if event.key > self.position:
                self.position = event.key

    def deliver_threadsafe(self, events: list[Event]) -> None:
        """:meth:`deliver` from another thread (a web thread after its commit)."""
        loop = self.loop
        if loop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(self.deliver, events)
            except RuntimeError:  # the loop closed meanwhile: nobody is listening
                pass

    def resync_all(self) -> None:
        """Every subscriber may have missed events (the bus was down)."""
        for subscribers in self.by_stream.values():
            for subscriber in subscribers:
                subscriber.ask_resync()


class ReplayBuffers:
    """The last ``size`` events of each stream, kept ``seconds`` (the embedded default's replay).

    A reconnecting client is sent the events of its streams after its last id. When that cannot
    be complete — its id is older than ``seconds``, or a stream's buffer is full and starts after
    it — the answer is ``None``: the client must read the API again (``resync``).
    """

    def __init__(self, size: int, seconds: int) -> None:
        self.size, self.seconds = size, seconds
        self.streams: dict[str, deque[Event]] = {}
        self._lock = threading.Lock()
        self._last_cleanup = 0.0

    def add(self, event: Event) -> None:
        with self._lock:
            for stream in event.streams:
                buffer = self.streams.get(stream)
                if buffer is None:
                    buffer = self.streams[stream] = deque(maxlen=self.size)
                buffer.append(event)
            self._cleanup(event.key[0])

    def _cleanup(self, now_ms: int) -> None:
        # Streams with nothing newer than the horizon can never be replayed from: let them go.
        if now_ms - self._last_cleanup < 1000 * min(self.seconds, 60):
            return
        self._last_cleanup = now_ms
        horizon = now_ms - self.seconds * 1000
        for stream in [s for s, b in self.streams.items() if b[-1].key[0] < horizon]:
            del self.streams[stream]

    def since(self, streams: Iterable[str], after: Key) -> list[Event] | None:
        if after[0] < int(time.time() * 1000) - self.seconds * 1000:
            return None
        found: dict[Key, Event] = {}
        with self._lock:
            for stream in streams:
                buffer = self.streams.get(stream)
                if not buffer:
                    continue
                if len(buffer) >= self.size and buffer[0].key > after:
                    return None  # the buffer may have let go of events after `after`
                for event in buffer:
                    if event.key > after:
                        found[event.key] = event
        return [found[key] for key in sorted(found)]
