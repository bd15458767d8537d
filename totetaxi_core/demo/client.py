"""The app's own API, called in-process: what a browser or a frontend would send, minus the wire.

The demo drives the platform the way its users do, so every rule, hook, audit record and email
happens as in real use; only the network is skipped (WebOb hands the request to the WSGI app).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from webob import Request, Response

WSGIApp = Callable[..., Any]


class DemoStepFailed(RuntimeError):
    """The app answered a demo step with a status the script did not plan for."""

    def __init__(self, method: str, path: str, status: int, body: str) -> None:
        super().__init__(f"{method} {path} answered {status}: {body[:400]}")
        self.status = status


class AppClient:
    """JSON requests to a WSGI app, authenticated by bearer token (no cookies, so no CSRF)."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app
        self.requests = 0

    def call(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        *,
        token: str | None = None,
        expect: Iterable[int] = (200, 201, 202, 204),
    ) -> tuple[int, Any]:
        """Send one request; returns ``(status, parsed JSON body or None)``.

        Raises :class:`DemoStepFailed` when the status is not one of ``expect``.
        """
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        request = Request.blank(path, method=method, headers=headers)
        if body is not None:
            request.body = json.dumps(body).encode()
            request.content_type = "application/json"
        return self._send(request, method, path, expect)

    def post_form(
        self, url: str, fields: Mapping[str, str], file_name: str, content: bytes, content_type: str
    ) -> int:
        """A browser's multipart form post (a presigned upload): the fields, then the file."""
        boundary = secrets.token_hex(16)
        head = f"--{boundary}\r\nContent-Disposition: form-data; name="
        parts = [f'{head}"{k}"\r\n\r\n{v}\r\n'.encode() for k, v in fields.items()]
        parts.append(
            f'{head}"file"; filename="{file_name}"\r\nContent-Type: {content_type}\r\n\r\n'.encode()
            + content
            + f"\r\n--{boundary}--\r\n".encode()
        )
        request = Request.blank(url, method="POST")
        request.body = b"".join(parts)
        request.content_type = f"multipart/form-data; boundary={boundary}"
        status, _ = self._send(request, "POST", url, (200, 201, 204))
        return status

    def _send(
        self, request: Request, method: str, path: str, expect: Iterable[int]
    ) -> tuple[int, Any]:
        request.remote_addr = "127.0.0.1"
        response: Response = request.get_response(self.app)
        self.requests += 1
        if response.status_code not in tuple(expect):
            raise DemoStepFailed(method, path, response.status_code, response.text)
        parsed = None
        if response.body and (response.content_type or "").endswith("json"):
            parsed = response.json
        return response.status_code, parsed
