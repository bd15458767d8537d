"""Live updates in tests: a live app on a real uvicorn server, and clients for it.

* ``serve(router, app=None)``: a :class:`Served` uvicorn server in a daemon thread on an
  ephemeral loopback port, running ``LiveApp(router)`` (or ``app``: e.g. the development
  composition of the web and live apps). The socket listens before the thread starts and the
  server accepts only once its start-up (the bus subscribed) is done, so a client may connect at
  once. ``stop()`` ends it.
* ``socket_to(served, query="", headers=None)``: a WebSocket client (websockets' synchronous
  client); ``refusal(served, query, headers)``: the status and body of a refused handshake.
* ``next_event(ws, type=None)``: the next frame that is an event (or of ``type``), skipping
  hello and heartbeats; ``frames_until(ws, predicate)``: every frame up to the first matching.
* ``sse(served, query="", headers=None)``: a Server-Sent Events reader (``.next()`` →
  ``{"id", "event", "data"}``).
* ``published(registry, stream)``: what the in-process bus kept for ``stream`` (replay buffer).
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from totetaxi_core.live.app import PATH, SSE_PATH, LiveApp
from totetaxi_core.live.server import uvicorn_config
from totetaxi_core.plugin_api import find_service

TIMEOUT = 10


@dataclass
class Served:
    """A running server: ``url`` (http), ``ws_url`` (the WebSocket endpoint), ``app``."""

    app: Any
    port: int
    server: Any = field(repr=False)
    thread: threading.Thread = field(repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}{PATH}"

    @property
    def live(self) -> LiveApp:
        return getattr(self.app, "live", self.app)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def serve(router: Any, app: Any = None) -> Served:
    app = app if app is not None else LiveApp(router)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    server = uvicorn.Server(uvicorn_config(app, "127.0.0.1", 0, timeout_graceful_shutdown=2))
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="live-test", daemon=True
    )
    thread.start()
    return Served(app, sock.getsockname()[1], server, thread)


def socket_to(served: Served, query: str = "", headers: dict[str, str] | None = None):
    url = served.ws_url + (f"?{query}" if query else "")
    return connect(url, additional_headers=headers or {}, open_timeout=TIMEOUT, max_size=2**24)


def refusal(
    served: Served, query: str = "", headers: dict[str, str] | None = None
) -> tuple[int, dict]:
    """The handshake must be refused: its status and JSON body."""
    try:
        socket_to(served, query, headers).close()
    except InvalidStatus as exc:
        return exc.response.status_code, json.loads(exc.response.body or b"{}")
    raise AssertionError("the handshake was accepted")


def frame(ws: ClientConnection) -> dict[str, Any]:
    return json.loads(ws.recv(timeout=TIMEOUT))


def next_event(ws: ClientConnection, type: str | None = None) -> dict[str, Any]:
    """The next event (of ``type``), skipping hello, heartbeats and other types."""
    while True:
        message = frame(ws)
        if message["type"] in ("hello", "heartbeat"):
            continue
        if type is None or message["type"] == type:
            return message


def frames_until(
    ws: ClientConnection, predicate: Callable[[dict[str, Any]], bool]
) -> list[dict[str, Any]]:
    """Every frame received up to and including the first for which ``predicate`` holds."""
    frames = []
    while True:
        frames.append(frame(ws))
        if predicate(frames[-1]):
            return frames


class SSEReader:
    """A Server-Sent Events stream read line by line (``http.client``, no buffering games)."""

    def __init__(self, served: Served, query: str = "", headers: dict[str, str] | None = None):
        self.connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=TIMEOUT)
        path = SSE_PATH + (f"?{query}" if query else "")
        self.connection.request("GET", path, headers=headers or {})
        self.response = self.connection.getresponse()
        self.status = self.response.status

    def json(self) -> Any:
        return json.loads(self.response.read())

    def next(self) -> dict[str, Any]:
        """The next dispatched event: ``{"id", "event", "data"}`` (comments and bare ids
        skipped)."""
        fields: dict[str, Any] = {}
        while True:
            line = self.response.fp.readline().decode().rstrip("\n")
            if line == "":
                if "data" in fields:
                    return fields
                fields = {}
                continue
            if line.startswith(":"):
                continue
            name, _, value = line.partition(": ")
            if name == "data":
                fields["data"] = json.loads(value)
            elif name in ("id", "event"):
                fields[name] = value

    def close(self) -> None:
        self.connection.close()


def sse(served: Served, query: str = "", headers: dict[str, str] | None = None) -> SSEReader:
    return SSEReader(served, query, headers)


def published(registry: Any, stream: str = "staff") -> list[Any]:
    """The events of ``stream`` in the in-process bus's replay buffer, oldest first."""
    bus = find_service(registry, "live.publisher")
    return list(bus.buffers.streams.get(stream, ()))


def published_types(registry: Any, stream: str = "staff") -> list[str]:
    return [event.type for event in published(registry, stream)]
