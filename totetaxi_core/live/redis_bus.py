"""Production: events through Redis, so any number of web and live processes can run.

A publisher (a web process or a Celery worker, after its commit) runs one Lua script per event,
atomically: Redis gives the event its id (``XADD`` to ``<prefix>:log``, so ids grow whoever
publishes), appends it to the replay stream of each of its streams (``<prefix>:s:<stream>``,
the last ``replay_size`` entries, expiring ``replay_seconds`` after the last one) and
``PUBLISH``es it on ``<prefix>:events``. Because all three happen in one script, the order of
the pub/sub messages is the order of the ids: a client that saw id N has seen every earlier
event of its streams. Every live process subscribes to the channel and fans out to its own
clients; a reconnecting client is replayed from the streams, whichever process it reaches.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import time
from collections.abc import Iterable
from typing import Any

import redis
import redis.asyncio as aioredis

from .events import LiveEvent
from .hub import Event, Hub, Key, format_id, parse_id

log = logging.getLogger("totetaxi.live")

# KEYS[1]: the id log; KEYS[2..]: the replay streams. ARGV: channel, payload, size, ttl.
PUBLISH_SCRIPT = """
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '1', '*', 'e', '1')
for i = 2, #KEYS do
  redis.call('XADD', KEYS[i], 'MAXLEN', ARGV[3], id, 'e', ARGV[2])
  redis.call('EXPIRE', KEYS[i], ARGV[4])
end
redis.call('PUBLISH', ARGV[1], id .. ' ' .. ARGV[2])
return id
"""


class Keys:
    """The Redis names under one prefix (tests use their own)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.log = f"{prefix}:log"
        self.channel = f"{prefix}:events"

    def stream(self, name: str) -> str:
        return f"{self.prefix}:s:{name}"


class RedisPublisher:
    """Publishes events from a web process or a worker (synchronous, after commit)."""

    def __init__(self, url: str, prefix: str, replay_size: int, replay_seconds: int) -> None:
        self.url, self.keys = url, Keys(prefix)
        self.replay_size, self.replay_seconds = replay_size, replay_seconds
        self._client: redis.Redis | None = None
        self._script: Any = None

    def _ready(self) -> tuple[redis.Redis, Any]:
        # Made on first use: a forked web worker must not share its master's connections.
        if self._client is None:
            # Short timeouts: the request has answered, but its thread waits for this.
            self._client = redis.Redis.from_url(
                self.url, socket_connect_timeout=2, socket_timeout=2
            )
            self._script = self._client.register_script(PUBLISH_SCRIPT)
        return self._client, self._script

    def publish(self, events: Iterable[LiveEvent]) -> None:
        client, script = self._ready()
        at = dt.datetime.now(dt.UTC).isoformat()
        pipe = client.pipeline(transaction=False)
        for event in events:
            payload = {**event.payload(), "at": at}
            keys = [self.keys.log, *(self.keys.stream(s) for s in event.streams)]
            args = [self.keys.channel, json.dumps(payload), self.replay_size, self.replay_seconds]
            script(keys=keys, args=args, client=pipe)
        pipe.execute()


class RedisBus:
    """A live process's side: the channel's events fanned out to this process's subscribers,
    and replay from the streams."""

    def __init__(self, url: str, prefix: str, replay_size: int, replay_seconds: int) -> None:
        self.url, self.keys = url, Keys(prefix)
        self.replay_size, self.replay_seconds = replay_size, replay_seconds
        self.hub = Hub()
        #: Set once the channel is subscribed (start-up waits for it).
        self.subscribed = asyncio.Event()
        self._client: aioredis.Redis | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def client(self) -> aioredis.Redis:
        if self._client is None:
            self._client = aioredis.Redis.from_url(
                self.url, decode_responses=True, socket_connect_timeout=3
            )
        return self._client

    async def start(self, wait: float = 5.0) -> None:
        """Subscribe (in a task that reconnects on its own); wait up to ``wait`` seconds for the
        subscription, so that a process serving clients is already listening."""
        self._task = asyncio.create_task(self._listen(), name="live-redis-listener")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.subscribed.wait(), wait)
        if not self.subscribed.is_set():
            log.error("live: Redis at %s is not answering; retrying in the background", self.url)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        if self._client is not None:
            await self._client.aclose()

    async def _listen(self) -> None:
        backoff, connected_before = 0.2, False
        while True:
            pubsub = self.client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.keys.channel)
                if connected_before:
                    # Events published while we were away reached nobody here: every client
                    # is told to read again.
                    self.hub.resync_all()
                connected_before, backoff = True, 0.2
                self.subscribed.set()
                async for message in pubsub.listen():
                    if message.get("type") == "message":
                        self._receive(message["data"])
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.subscribed.clear()
                log.warning("live: Redis subscription lost (%s); reconnecting", exc)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    def _receive(self, data: str) -> None:
        event = _decode(*data.split(" ", 1))
        if event is not None:
            self.hub.deliver([event])

    async def replay(self, streams: Iterable[str], after: Key) -> list[Event] | None:
        if after[0] < int(time.time() * 1000) - self.replay_seconds * 1000:
            return None
        streams = list(streams)
        pipe = self.client.pipeline(transaction=False)
        for stream in streams:
            key = self.keys.stream(stream)
            pipe.xlen(key)
            pipe.xrange(key, "-", "+", count=1)
            pipe.xrange(key, f"({format_id(after)}", "+")
        answers = await pipe.execute()
        found: dict[Key, Event] = {}
        for index in range(len(streams)):
            length, oldest, entries = answers[3 * index : 3 * index + 3]
            if length >= self.replay_size and oldest and (parse_id(oldest[0][0]) or after) > after:
                return None  # trimmed: events after `after` may be gone
            for entry_id, fields in entries:
                event = _decode(entry_id, fields["e"])
                if event is not None:
                    found[event.key] = event
        return [found[key] for key in sorted(found)]


def _decode(entry_id: str, payload: str) -> Event | None:
    key = parse_id(entry_id)
    try:
        body = json.loads(payload)
        return Event.from_payload(key, body, body["at"]) if key is not None else None
    except (ValueError, KeyError, TypeError):
        log.warning("live: an unreadable event %s was ignored", entry_id)
        return None
