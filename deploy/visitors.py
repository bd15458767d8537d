"""The simulated visitors of ``make chaos`` and ``make soak``: guests who quote, book, pay and
track; a signed-in customer; a member of staff on the console. Plain HTTP over loopback
(``http.client``, one keep-alive connection per visitor), every answer recorded with its status,
latency and, for errors, whether it kept the platform's promises (the error shape, and
``Retry-After`` on a 503).
"""

from __future__ import annotations

import datetime as dt
import http.client
import itertools
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

PICKUP = {"line1": "200 E 62nd St", "city": "New York", "state": "NY", "postal_code": "10065"}
DELIVERY = {"line1": "12 Dune Rd", "city": "Southampton", "state": "NY", "postal_code": "11968"}
PASSWORD = "Rehearsal-Password-7"  # noqa: S105 - a throwaway account on a throwaway database
_serial = itertools.count(1)


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    ms: float

    @property
    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            return None

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


@dataclass
class Record:
    at: float  # monotonic
    label: str
    status: int
    ms: float
    problem: str = ""  # a broken promise: a 5xx other than a clean 503, a missing Retry-After


@dataclass
class Recorder:
    """Every answer of a run, thread-safe."""

    records: list[Record] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, label: str, answer: Answer) -> None:
        problem = judge(answer)
        with self.lock:
            self.records.append(Record(time.monotonic(), label, answer.status, answer.ms, problem))


def judge(answer: Answer) -> str:
    """What is wrong with an answer, by the platform's own rules ('' when nothing)."""
    if answer.status == 0:
        return "no answer: " + answer.text[:200]
    if answer.status == 503:
        body = answer.json
        if "Retry-After" not in answer.headers:
            return "503 without Retry-After"
        if answer.headers.get("Content-Type", "").startswith("application/json") and not (
            isinstance(body, dict) and body.get("status") == "error" and body.get("errors")
        ):
            return "503 without the error shape"
        if "Traceback" in answer.text:
            return "a traceback in a 503"
        return ""
    if answer.status >= 500:
        return f"{answer.status}: {answer.text[:200]}"
    return ""


class Client:
    """One visitor: a keep-alive connection to the app and its cookies (Secure ones too: this
    is plain HTTP on loopback, where a browser would not send them)."""

    def __init__(self, base_url: str, recorder: Recorder | None = None, timeout: float = 30):
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.recorder, self.timeout = recorder, timeout
        self.cookies: dict[str, str] = {}
        self.csrf = ""
        self._connection: http.client.HTTPConnection | None = None

    def _connect(self) -> http.client.HTTPConnection:
        if self._connection is None:
            self._connection = http.client.HTTPConnection(
                self.host, self.port, timeout=self.timeout
            )
        return self._connection

    def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        form: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        label: str | None = None,
    ) -> Answer:
        sent = dict(headers or {})
        data: bytes | None = None
        if body is not None:
            data, sent["Content-Type"] = json.dumps(body).encode(), "application/json"
        elif form is not None:
            data = urlencode(form).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if self.csrf and method not in ("GET", "HEAD"):
            sent.setdefault("X-CSRF-Token", self.csrf)
        started = time.monotonic()
        answer = None
        for attempt in (1, 2):  # a keep-alive connection the server closed: reconnect once
            try:
                connection = self._connect()
                connection.request(method, path, body=data, headers=sent)
                response = connection.getresponse()
                answer = Answer(
                    response.status,
                    dict(response.getheaders()),
                    response.read(),
                    1000 * (time.monotonic() - started),
                )
                for name, value in response.getheaders():
                    if name.lower() == "set-cookie":
                        key, _, rest = value.partition("=")
                        self.cookies[key.strip()] = rest.split(";", 1)[0]
                break
            except (OSError, http.client.HTTPException) as exc:
                self.close()
                if attempt == 2:
                    answer = Answer(0, {}, str(exc).encode(), 1000 * (time.monotonic() - started))
        assert answer is not None
        if self.recorder is not None and label is not None:
            self.recorder.add(label, answer)
        return answer

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


# --- what visitors do -----------------------------------------------------------------------------


def guest_body(day: dt.date, tag: str = "") -> dict[str, Any]:
    n = next(_serial)
    return {
        "service_type": "mini_move",
        "package": "petite",
        "date": day.isoformat(),
        "time_window": "morning",
        "pickup_address": PICKUP,
        "delivery_address": DELIVERY,
        "guest": {
            "first_name": "Rehearsal",
            "last_name": f"Guest{n}",
            "email": f"guest-{tag}{n}-{uuid.uuid4().hex[:6]}@example.com",
            "phone": "212-555-0101",
        },
    }


def quote(client: Client, day: dt.date) -> Answer:
    body = {"service_type": "mini_move", "package": "standard", "date": day.isoformat()}
    return client.request("POST", "/api/v1/quotes", body=body, label="POST /quotes")


def book(client: Client, day: dt.date, tag: str = "") -> Answer:
    return client.request(
        "POST",
        "/api/v1/bookings",
        body=guest_body(day, tag),
        headers={"Idempotency-Key": uuid.uuid4().hex},
        label="POST /bookings",
    )


def start_payment(client: Client, booking: dict[str, Any]) -> Answer:
    return client.request(
        "POST",
        f"/api/v1/bookings/{booking['id']}/payments?token={booking['tracking_token']}",
        body={},
        label="POST /bookings/{id}/payments",
    )


def track(client: Client, booking: dict[str, Any]) -> Answer:
    return client.request(
        "GET",
        f"/api/v1/track/{booking['number']}?token={booking['tracking_token']}",
        label="GET /track/{number}",
    )


def tracking(client: Client, booking: dict[str, Any]) -> Answer:
    return client.request(
        "GET",
        f"/api/v1/bookings/{booking['id']}/tracking?token={booking['tracking_token']}",
        label="GET /bookings/{id}/tracking",
    )


def sign_up(client: Client) -> Answer:
    """A new customer account, signed in (session cookie; the CSRF token kept for later)."""
    client.csrf = client.request("GET", "/api/v1/auth/csrf").json["csrf_token"]
    n = next(_serial)
    answer = client.request(
        "POST",
        "/api/v1/auth/register",
        body={
            "email": f"customer-{n}-{uuid.uuid4().hex[:6]}@example.com",
            "password": PASSWORD,
            "first_name": "Casey",
            "last_name": f"Customer{n}",
            "phone": "212-555-0199",
        },
    )
    if answer.status == 201:
        client.csrf = client.request("GET", "/api/v1/auth/csrf").json["csrf_token"]
    return answer


def console_sign_in(client: Client, email: str, password: str) -> Answer:
    """Sign in on the console's form, as a browser does (the form's CSRF token, then POST)."""
    page = client.request("GET", "/console/login")
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    form = {"email": email, "password": password, "next": "/console/"}
    if found:
        form["csrf_token"] = found.group(1)
    return client.request("POST", "/console/login", form=form)


def percentile(values: list[float], share: float) -> float:
    """The ``share`` percentile (0..1) of ``values`` by nearest rank; 0 for none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]
