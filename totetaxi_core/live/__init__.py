"""Live updates (DESIGN §10): events published after commit, held connections that receive them.

* :mod:`.events` — :class:`LiveEvent` and :func:`publish_live`, what services call (plugins
  through the plugin API);
* :mod:`.memory` / :mod:`.redis_bus` — the two buses: in-process (``totetaxi.live_backend =
  memory``, the embedded default) and Redis pub/sub with replay streams (``redis``, production);
* :mod:`.hub` — one process's subscribers, event ids, back-pressure, replay buffers;
* :mod:`.access` — who a connection is and what it may read;
* :mod:`.app` — the ASGI app (WebSocket and Server-Sent Events);
* :mod:`.server` — ``totetaxi live CONFIG`` (uvicorn) and the development server that serves
  the web app and the live app from one process (``make run``).
"""

from __future__ import annotations

from typing import Any

from pyramid.config import Configurator
from pyramid.registry import Registry

from ..errors import SettingsError
from .events import (
    PUBLISHER,
    STAFF_STREAM,
    LiveEvent,
    booking_event,
    booking_stream,
    customer_stream,
    publish_live,
    staff_event,
)

__all__ = [
    "STAFF_STREAM",
    "LiveEvent",
    "booking_event",
    "booking_stream",
    "customer_stream",
    "make_bus",
    "publish_live",
    "staff_event",
]


def redis_url(settings: dict[str, Any]) -> str:
    return settings["totetaxi.live_redis_url"] or settings["totetaxi.redis_url"]


def make_publisher(settings: dict[str, Any]) -> Any:
    """The publisher web processes and workers hand committed events to."""
    size, seconds = settings["totetaxi.live_replay_size"], settings["totetaxi.live_replay_seconds"]
    if settings["totetaxi.live_backend"] == "redis":
        from .redis_bus import RedisPublisher

        url = redis_url(settings)
        if not url:
            raise SettingsError(
                [
                    "Setting 'totetaxi.live_backend' is redis but neither "
                    "'totetaxi.live_redis_url' nor 'totetaxi.redis_url' names a Redis."
                ]
            )
        return RedisPublisher(url, settings["totetaxi.live_prefix"], size, seconds)
    from .memory import MemoryBus

    return MemoryBus(size, seconds)


def make_bus(registry: Registry) -> Any:
    """What a live app listens to: in memory, the very bus this process's web app publishes
    to; with Redis, a subscription of its own (made per live app: it belongs to its loop)."""
    from ..service_registry import find_service

    settings = registry.settings
    if settings["totetaxi.live_backend"] == "redis":
        from .redis_bus import RedisBus

        return RedisBus(
            redis_url(settings),
            settings["totetaxi.live_prefix"],
            settings["totetaxi.live_replay_size"],
            settings["totetaxi.live_replay_seconds"],
        )
    return find_service(registry, PUBLISHER)


def includeme(config: Configurator) -> None:
    config.register_service(make_publisher(config.get_settings()), name=PUBLISHER)
