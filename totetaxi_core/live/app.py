"""The live process: a bare ASGI app holding WebSocket and Server-Sent Events connections.

* ``GET /api/v1/live`` (WebSocket): JSON text frames — first ``{"type": "hello", "id",
  "heartbeat_seconds"}``, then each event ``{"id", "type", "at", "data"}``, a ``{"type":
  "heartbeat", "id"}`` when nothing happened for ``totetaxi.live_heartbeat_seconds``, and
  ``{"type": "resync", "id"}`` when the events missed since ``last_event_id`` cannot all be
  replayed (read the API again). The client sends nothing.
* ``GET /api/v1/live/events`` (Server-Sent Events, for clients without WebSocket): the same
  events (``id:``, ``event:`` the type, ``data:`` the same JSON), heartbeats as comments
  preceded by an ``id:`` line (so ``Last-Event-ID`` stays current), ``event: resync``.
* ``GET /api/v1/live/health``: ``{"status": "ok", "connections": n}``.

Both take ``booking``, ``token``, ``subscribe``, ``access_token`` and ``last_event_id`` in the
query (:mod:`.access`); Server-Sent Events also the ``Last-Event-ID`` header that
``EventSource`` sends when it reconnects. A refused handshake is answered with the API's error
body and status (400, 401, 403, 404, 429) before the upgrade.

A connection is dropped, never waited for, when it falls ``totetaxi.live_queue_size`` events
behind or a send takes longer than ``totetaxi.live_send_timeout_seconds`` (WebSocket close code
1013: try again later); the client reconnects with its last id and is replayed what it missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import sys
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

from pyramid.router import Router

from ..origins import is_trusted, trusted_origins
from .access import Access, AccessRefused, resolve
from .hub import Dropped, Event, Subscriber, format_id

log = logging.getLogger("totetaxi.live")

PATH = "/api/v1/live"
SSE_PATH = PATH + "/events"
HEALTH_PATH = PATH + "/health"
#: WebSocket close codes: the server is going away; the client is too slow (try again later).
GOING_AWAY, TOO_SLOW = 1001, 1013

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class LiveApp:
    """The ASGI app of ``totetaxi live`` (and of ``make run``, beside the web app).

    ``router`` is the Pyramid app built from the same settings: its registry authenticates
    handshakes and holds the bus (:func:`totetaxi_core.live.make_bus`).
    """

    def __init__(self, router: Router, bus: Any = None) -> None:
        from . import make_bus

        self.registry = router.registry
        self.request_factory = router.request_factory
        settings = self.registry.settings
        self.bus = bus if bus is not None else make_bus(self.registry)
        self.hub = self.bus.hub
        self.heartbeat = settings["totetaxi.live_heartbeat_seconds"]
        self.queue_size = settings["totetaxi.live_queue_size"]
        self.send_timeout = settings["totetaxi.live_send_timeout_seconds"]
        self.per_principal = settings["totetaxi.live_max_connections_per_principal"]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind, path = scope["type"], scope.get("path", "")
        if kind == "lifespan":
            await self._lifespan(receive, send)
        elif kind == "websocket":
            await self._websocket(scope, receive, send)
        elif kind == "http" and path == SSE_PATH and scope["method"] in ("GET", "HEAD"):
            await self._sse(scope, receive, send)
        elif kind == "http" and path == HEALTH_PATH:
            body = {"status": "ok", "connections": self.hub.subscribers}
            await _answer(send, 200, body)
        else:
            refusal = AccessRefused(404, "path", f"Nothing live at {path}.", "path")
            await _answer(send, 404, refusal.body())

    # --- start and stop ---------------------------------------------------------------------

    async def startup(self) -> None:
        self.hub.attach(asyncio.get_running_loop())
        await self.bus.start()

    async def shutdown(self) -> None:
        await self.bus.stop()

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.startup()
                except Exception as exc:
                    log.exception("the live app could not start")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    # --- who is it ------------------------------------------------------------------------

    async def _open(self, scope: Scope, last_event_id: str | None) -> tuple[Access, Subscriber]:
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        last = query.get("last_event_id") or last_event_id
        access = await asyncio.to_thread(
            resolve, self.registry, self.request_factory, _environ(scope), query, last
        )
        if not self.hub.admit(access.principal, self.per_principal):
            raise AccessRefused(
                429,
                "connections",
                f"At most {self.per_principal} live connections at once; close one first.",
            )
        subscriber = Subscriber(access.principal, access.streams, self.queue_size)
        self.hub.add(subscriber)
        return access, subscriber

    def _close(self, subscriber: Subscriber) -> None:
        self.hub.remove(subscriber)
        self.hub.release(subscriber.principal)

    async def _catch_up(self, access: Access, subscriber: Subscriber) -> tuple[list[Event], bool]:
        """The events missed since the client's last id, and whether some may be lost."""
        if access.last is None:
            return [], False
        subscriber.last = access.last
        missed = await self.bus.replay(access.streams, access.last)
        if missed is None:
            return [], True
        return missed, False

    def _position(self, subscriber: Subscriber) -> str | None:
        """The id a client may resume from when its queue is empty: everything up to the newest
        event this process handed out was offered to it (or came before it subscribed)."""
        position = max(self.hub.position, subscriber.last)
        return format_id(position) if position > (0, 0) else None

    async def _pump(self, subscriber: Subscriber, emit: Callable[[str, Any], Awaitable[None]]):
        """Send the subscriber's events as they come, a heartbeat when none came; returns when
        the subscriber is dropped (too slow)."""
        while True:
            try:
                await asyncio.wait_for(subscriber.ready.wait(), self.heartbeat)
            except TimeoutError:
                if not subscriber.pending:
                    await self._timed(emit("heartbeat", self._position(subscriber)))
                continue
            if subscriber.resync:
                subscriber.resync = False
                await self._timed(emit("resync", self._position(subscriber)))
            for event in subscriber.take():
                await self._timed(emit("event", event))
                subscriber.last = event.key

    async def _timed(self, sending: Awaitable[None]) -> None:
        try:
            await asyncio.wait_for(sending, self.send_timeout)
        except TimeoutError:
            raise Dropped from None

    # --- WebSocket --------------------------------------------------------------------------

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = await receive()
        if message["type"] != "websocket.connect":
            return
        if scope.get("path") != PATH:
            await _deny(scope, send, AccessRefused(404, "path", "Nothing live here.", "path"))
            return
        try:
            access, subscriber = await self._open(scope, None)
        except AccessRefused as refusal:
            await _deny(scope, send, refusal)
            return
        code = GOING_AWAY
        try:
            await send({"type": "websocket.accept"})

            async def emit(kind: str, value: Any) -> None:
                if kind == "event":
                    text = value.message
                else:
                    text = json.dumps({"type": kind, "id": value})
                await send({"type": "websocket.send", "text": text})

            missed, lost = await self._catch_up(access, subscriber)
            hello = {"type": "hello", "id": self._position(subscriber)}
            hello["heartbeat_seconds"] = self.heartbeat
            await self._timed(send({"type": "websocket.send", "text": json.dumps(hello)}))
            if lost:
                await self._timed(emit("resync", self._position(subscriber)))
            for event in missed:
                await self._timed(emit("event", event))
                subscriber.last = event.key
            code = await _until_closed(self._pump(subscriber, emit), _client_gone(receive))
        except Dropped:
            code = TOO_SLOW
        except OSError:  # the client went away mid-send
            code = GOING_AWAY
        finally:
            self._close(subscriber)
        if code is not None:
            with contextlib.suppress(Exception):
                await send({"type": "websocket.close", "code": code})

    # --- Server-Sent Events -----------------------------------------------------------------

    async def _sse(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = _headers(scope)
        try:
            access, subscriber = await self._open(scope, headers.get("last-event-id"))
        except AccessRefused as refusal:
            await _answer(send, refusal.status, refusal.body(), self._cors(scope, headers))
            return
        try:
            response_headers = [
                (b"content-type", b"text/event-stream; charset=utf-8"),
                (b"cache-control", b"no-store"),
                # a proxy must pass each event on at once (nginx buffers otherwise)
                (b"x-accel-buffering", b"no"),
                *self._cors(scope, headers),
            ]
            await send({"type": "http.response.start", "status": 200, "headers": response_headers})
            if scope["method"] == "HEAD":
                await send({"type": "http.response.body", "body": b""})
                return

            async def emit(kind: str, value: Any) -> None:
                if kind == "event":
                    chunk = value.sse
                elif kind == "resync":
                    chunk = f"id: {value or ''}\nevent: resync\ndata: {{}}\n\n".encode()
                else:
                    # an id with no data moves Last-Event-ID without firing an event
                    chunk = (f"id: {value}\n\n" if value else ": heartbeat\n\n").encode()
                await send({"type": "http.response.body", "body": chunk, "more_body": True})

            missed, lost = await self._catch_up(access, subscriber)
            retry = f"retry: 2000\n: heartbeat every {self.heartbeat} s\n\n".encode()
            await self._timed(
                send({"type": "http.response.body", "body": retry, "more_body": True})
            )
            if lost:
                await self._timed(emit("resync", self._position(subscriber)))
            for event in missed:
                await self._timed(emit("event", event))
                subscriber.last = event.key
            await _until_closed(self._pump(subscriber, emit), _client_gone(receive))
        except (Dropped, OSError):
            pass
        finally:
            self._close(subscriber)
        with contextlib.suppress(Exception):
            await send({"type": "http.response.body", "body": b"", "more_body": False})

    def _cors(self, scope: Scope, headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
        """``EventSource`` from a trusted page on another origin (the React apps) reads the
        stream only with these; nobody else is told anything."""
        origin = headers.get("origin", "")
        own = f"{scope.get('scheme', 'http')}://{headers.get('host', '')}"
        if not is_trusted(origin, trusted_origins(self.registry.settings, own)):
            return []
        return [
            (b"access-control-allow-origin", origin.encode("latin-1")),
            (b"access-control-allow-credentials", b"true"),
            (b"vary", b"Origin"),
        ]


async def _until_closed(pump: Awaitable[None], gone: Awaitable[None]) -> int | None:
    """Run the pump until the client leaves (``None``: nothing to close) or the pump ends."""
    pumping = asyncio.ensure_future(pump)
    waiting = asyncio.ensure_future(gone)
    try:
        done, _ = await asyncio.wait({pumping, waiting}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (pumping, waiting):
            task.cancel()
        await asyncio.gather(pumping, waiting, return_exceptions=True)
    if pumping in done:
        pumping.result()  # Dropped or a send error propagates
    return None


async def _client_gone(receive: Receive) -> None:
    """Read (and ignore) what the client sends until it disconnects."""
    while True:
        message = await receive()
        if message["type"] in ("websocket.disconnect", "http.disconnect"):
            return


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", ())}


def _environ(scope: Scope) -> dict[str, Any]:
    """A WSGI environ of the handshake, for the app's security policy."""
    server = scope.get("server") or ("127.0.0.1", 80)
    client = scope.get("client") or ("", 0)
    scheme = {"ws": "http", "wss": "https"}.get(scope.get("scheme", "http"), scope.get("scheme"))
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": scope.get("path", PATH),
        "QUERY_STRING": "",
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(server[1]),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": client[0] or "",
        "wsgi.url_scheme": scheme,
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
        "wsgi.version": (1, 0),
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    for name, value in _headers(scope).items():
        key = name.upper().replace("-", "_")
        if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            key = "HTTP_" + key
        environ[key] = value
    return environ


async def _answer(
    send: Send, status: int, body: Any, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    data = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(data)).encode()),
                (b"cache-control", b"no-store"),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})


async def _deny(scope: Scope, send: Send, refusal: AccessRefused) -> None:
    """Refuse a WebSocket handshake with the API's status and error body where the server can
    (ASGI's ``websocket.http.response``), else with close code 1008 (policy violation)."""
    if "websocket.http.response" in scope.get("extensions", {}):
        data = json.dumps(refusal.body()).encode()
        await send(
            {
                "type": "websocket.http.response.start",
                "status": refusal.status,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "websocket.http.response.body", "body": data})
    else:
        await send({"type": "websocket.close", "code": 1008, "reason": refusal.description[:100]})


__all__ = ["HEALTH_PATH", "PATH", "SSE_PATH", "LiveApp"]
