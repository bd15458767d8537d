"""A stand-in for Sentry's ingestion endpoint, on loopback: it keeps every envelope it receives.

``SentryStub().dsn`` is a DSN pointing at it (``http://public@127.0.0.1:PORT/1``). The SDK
posts envelopes to ``/api/1/envelope/``, gzip- or brotli-compressed; the stub decompresses and
parses them with the SDK's own :class:`sentry_sdk.envelope.Envelope`, and keeps the raw bytes
too (``raw``), so a test can assert that a value appears nowhere in what left the process.
After ``sentry_sdk.flush()`` returns, everything the SDK had queued has been answered, hence
received: no waiting.
"""

from __future__ import annotations

import gzip
import threading
import zlib
from http.server import BaseHTTPRequestHandler
from typing import Any

import sentry_sdk
from sentry_sdk.envelope import Envelope

from support.loopback import LoopbackServer

#: The apps of the Sentry plugin's tests: the example plugin gives a view that fails on demand
#: (``fail_after_enqueue``) and tasks that fail (``example.flaky``).
PLUGINS = "example monitoring_sentry"


class SentryStub(LoopbackServer):
    """Sentry's envelope endpoint on ``127.0.0.1:<free port>``."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []
        self.raw: list[bytes] = []
        self.paths: list[str] = []
        self._lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                body = _decompress(body, self.headers.get("Content-Encoding", ""))
                with stub._lock:
                    stub.paths.append(self.path)
                    stub.raw.append(body)
                    stub.envelopes.append(Envelope.deserialize(body))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: Any) -> None:
                pass

        self._serve(Handler, "sentry-stub")

    @property
    def dsn(self) -> str:
        return f"http://public@127.0.0.1:{self.port}/1"

    def items(self, kind: str) -> list[dict[str, Any]]:
        """The payloads of the items of ``kind`` (``event``, ``transaction``) received so far."""
        with self._lock:
            return [
                item.payload.json
                for envelope in self.envelopes
                for item in envelope.items
                if item.type == kind and item.payload.json is not None
            ]

    @property
    def events(self) -> list[dict[str, Any]]:
        """The error events received so far."""
        return self.items("event")

    def flush(self) -> None:
        """Send what the SDK queued; once it returns the stub has answered (and kept) all of it."""
        sentry_sdk.flush(timeout=5)

    def everything(self) -> str:
        """Every byte received, as text: what a test searches for a value that must not leave."""
        with self._lock:
            return b"\n".join(self.raw).decode("utf-8", "replace")


def _decompress(body: bytes, encoding: str) -> bytes:
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "deflate":
        return zlib.decompress(body)
    if encoding == "br":
        import brotli  # only when the SDK found brotli installed

        return brotli.decompress(body)
    return body
