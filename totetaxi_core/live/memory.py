"""The embedded default: publishers and subscribers in one process (development, tests).

Web threads publish after their commit; the events get their ids here, go into the replay
buffers and are handed to the live app's event loop, which offers them to its subscribers. Only
a live app in the same process sees them: ``make run`` serves both from one process.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable

from .events import LiveEvent
from .hub import Event, EventIds, Hub, Key, ReplayBuffers


class MemoryBus:
    """Ids, replay buffers and the fan-out of one process."""

    def __init__(self, replay_size: int, replay_seconds: int) -> None:
        self.hub = Hub()
        self.ids = EventIds()
        self.buffers = ReplayBuffers(replay_size, replay_seconds)
        self._lock = threading.Lock()

    def publish(self, events: Iterable[LiveEvent]) -> None:
        """Number, keep and fan out ``events`` (from any thread)."""
        at = dt.datetime.now(dt.UTC).isoformat()
        made = []
        with self._lock:  # ids are given and buffered in one order
            for event in events:
                made.append(Event.from_payload(self.ids.next(), event.payload(), at))
                self.buffers.add(made[-1])
        self.hub.deliver_threadsafe(made)

    async def start(self) -> None:
        """Nothing to connect to."""

    async def stop(self) -> None:
        """Nothing to close."""

    async def replay(self, streams: Iterable[str], after: Key) -> list[Event] | None:
        return self.buffers.since(streams, after)
