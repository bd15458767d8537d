"""A local stand-in for Onfleet's REST API v2, speaking its wire format, for the Onfleet adapter.

``OnfleetStub()`` serves on ``127.0.0.1`` (a free port) from a thread; point the dispatcher at
``stub.url`` (``OnfleetDispatcher(stub.api_key, stub.webhook_secret_hex, base_url=stub.url)``)
and close it with ``stub.close()`` or use it as a context manager.

What it speaks, as Onfleet does:

* JSON bodies; HTTP basic auth with the API key as user name (the password is not looked at);
  anything else is a 401 ``{"code": "InvalidCredentials", "message": {"error": 1102, ...}}``;
* errors as ``{"code": ..., "message": {"error": <subcode>, "message": ..., "cause": ...,
  "request": <uuid>}}``: 400 ``InvalidContent`` (1000 invalid values, 1009 time constraints,
  1010 phone), 404 ``ResourceNotFound``, 429 ``TooManyRequests`` with ``X-RateLimit-Limit``,
  ``X-RateLimit-Remaining``, ``X-RateLimit-Reset`` (epoch seconds);
* tasks with Onfleet's fields (``id``, ``shortId``, ``state`` 0 unassigned / 1 assigned /
  2 active / 3 completed, ``container``, ``worker``, ``trackingURL``, ``metadata``,
  ``completionDetails`` with ``success``, ``failureReason``, ``failureNotes``, ``notes``,
  ``photoUploadId(s)``, ``signatureUploadId``, ``estimatedArrivalTime`` /
  ``estimatedCompletionTime`` in epoch ms, ``destination.location`` as GeoJSON ``[lng, lat]``);
* ``POST /tasks``, ``GET /tasks/all?from=&to=&lastId=`` (sorted by creation, ``page_size`` a
  page, ``lastId`` only while more remain), ``GET|PUT|DELETE /tasks/{id}``, ``GET /workers``,
  ``GET /organization``, ``GET|PUT /containers/{organizations|workers}/{id}`` (``{"tasks":
  [ids]}`` replaces, ``{"tasks": [index, ids...]}`` inserts, ``-1`` appends; a task set into a
  container leaves its previous one), ``GET /auth/test``.

Test helpers (playing the fleet): :meth:`OnfleetStub.add_worker`, :meth:`OnfleetStub.set_duty`,
:meth:`OnfleetStub.move` (a worker's position), :meth:`OnfleetStub.start`,
:meth:`OnfleetStub.complete`; :meth:`OnfleetStub.webhook` gives the body and headers of a
delivery signed as Onfleet signs them; :meth:`OnfleetStub.fail_next` makes the next requests
fail (5xx, 429 with rate-limit headers, ...) before they reach an endpoint;
:attr:`OnfleetStub.requests` records every request.

Deviations from real Onfleet are listed in :data:`DEVIATIONS`.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import secrets
import string
import threading
import time
import uuid
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from support.loopback import LoopbackServer

DEVIATIONS = """
* No geocoding: an ``unparsed`` address is stored as given (with ``apartment``); a destination
  without ``location`` gets a fixed point in Manhattan. Structured addresses need ``number``,
  ``street``, ``city`` and ``country``.
* A task needs one recipient with a name and a phone of at least 7 digits (Onfleet accepts
  tasks without recipients and validates phones for real); recipients are not shared across
  tasks, so recipient notes do not carry over.
* Properties the stub does not know are refused (400) in task bodies; Onfleet ignores or
  validates far more. PUT /tasks/{id} takes ``container`` (WORKER only: TEAM needs teams, which
  the stub has none of), ``notes``, ``completeAfter``, ``completeBefore`` and ``metadata``.
* Active (2) and completed (3) tasks cannot be deleted, reassigned or set into a container
  (400); Onfleet's exact messages for these cases differ.
* The error subcodes for 404 (1400), 429 (2300) and 5xx (2500) are the stub's choice; only
  1000, 1009, 1010 and 1102 are taken from Onfleet's error list.
* Rate limiting is never enforced by itself: a 429 comes only from fail_next().
* ``GET /tasks/all`` honours ``from``, ``to``, ``lastId`` only (no ``state``, ``worker``,
  ``completeBeforeBefore``, ...); ``GET /workers`` ignores its filters.
* Webhooks are not delivered: :meth:`OnfleetStub.webhook` builds and signs a delivery for the
  test to hand to the adapter. Payloads carry the fields Onfleet documents per trigger
  (``taskId``, ``workerId``, ``time`` in ms, ``triggerId``, ``triggerName``, ``actionContext``,
  ``data.task``, ``data.worker``; ``etaSeconds`` for taskEta, ``distance`` for taskArrival,
  ``status`` for workerDuty), not every field Onfleet adds. There is no ``GET ?check=``
  handshake.
"""

STATUS_TEXT = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    408: "Request Timeout",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}

#: Onfleet's webhook trigger ids and names (docs.onfleet.com/reference/webhooks).
TRIGGERS: dict[str, int] = {
    "taskStarted": 0,
    "taskEta": 1,
    "taskArrival": 2,
    "taskCompleted": 3,
    "taskFailed": 4,
    "workerDuty": 5,
    "taskCreated": 6,
    "taskUpdated": 7,
    "taskDeleted": 8,
    "taskAssigned": 9,
    "taskUnassigned": 10,
    "taskDelayed": 12,
    "taskCloned": 13,
}
TRIGGER_NAMES = {number: name for name, number in TRIGGERS.items()}

#: Onfleet ids are 24 characters that include ``~`` and ``*`` ("vjw*RDMKDljKVDve1Vtcplgu").
_ID_ALPHABET = string.ascii_letters + string.digits + "~*"
#: Where tasks without a location land (Onfleet would geocode the address): Herald Square.
DEFAULT_LOCATION = [-73.9879, 40.7497]
TASK_FIELDS = frozenset(
    {
        "destination",
        "recipients",
        "notes",
        "completeAfter",
        "completeBefore",
        "pickupTask",
        "dependencies",
        "metadata",
        "container",
        "quantity",
        "serviceTime",
    }
)
UPDATE_FIELDS = frozenset({"container", "notes", "completeAfter", "completeBefore", "metadata"})
METADATA_TYPES = {"boolean": bool, "number": (int, float), "string": str, "object": dict}


def new_id() -> str:
    """An id in Onfleet's style: 24 characters of letters, digits, ``~`` and ``*``."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(24))


def now_ms() -> int:
    return int(time.time() * 1000)


def sign(secret_hex: str, body: bytes) -> str:
    """``X-Onfleet-Signature``: hex HMAC-SHA512 of the raw body keyed with the secret decoded
    from hex (PITFALLS 15)."""
    return hmac.new(bytes.fromhex(secret_hex), body, hashlib.sha512).hexdigest()


def rate_limit_headers(
    reset_in: float = 1.0, *, retry_after: float | None = None, limit: int = 20
) -> dict[str, str]:
    """The headers of an Onfleet 429: the window resets ``reset_in`` seconds from now (epoch
    seconds, rounded up); ``Retry-After`` only when given."""
    headers = {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": str(int(time.time() + reset_in + 0.999)),
    }
    if retry_after is not None:
        headers["Retry-After"] = f"{retry_after:g}"
    return headers


class OnfleetFailure(Exception):
    """An error answer in Onfleet's shape."""

    def __init__(self, status: int, code: str, error: int, message: str, cause: Any = None):
        super().__init__(message)
        self.status = status
        self.body = error_body(code, error, message, cause)


def error_body(code: str, error: int, message: str, cause: Any = None) -> dict[str, Any]:
    """``{"code": ..., "message": {"error", "message", "cause", "request"}}``."""
    detail: dict[str, Any] = {"error": error, "message": message, "request": str(uuid.uuid4())}
    if cause is not None:
        detail["cause"] = cause
    return {"code": code, "message": detail}


def invalid(cause: Any, *, error: int = 1000, message: str | None = None) -> OnfleetFailure:
    return OnfleetFailure(
        400,
        "InvalidContent",
        error,
        message or "The values of one or more parameters are invalid.",
        cause,
    )


def not_found(kind: str, object_id: str) -> OnfleetFailure:
    return OnfleetFailure(
        404,
        "ResourceNotFound",
        1400,
        "The requested resource does not exist.",
        f"{kind} {object_id} not found",
    )


@dataclass
class RecordedRequest:
    """One request as the stub received it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: Message
    body: bytes
    json: Any = None
    status: int = 0
    response: Any = None

    @property
    def authorization(self) -> str | None:
        return self.headers.get("Authorization")

    @property
    def basic_auth(self) -> tuple[str, str] | None:
        """(user, password) of a basic ``Authorization`` header."""
        auth = self.authorization or ""
        if not auth.startswith("Basic "):
            return None
        try:
            user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
        except ValueError:
            return None
        return user, password


@dataclass
class _Fault:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


class OnfleetStub(LoopbackServer):
    """The stub server and its state (see the module docstring)."""

    def __init__(
        self,
        api_key: str = "6172d4f0c8a9e1b2f3d4c5b6a7e8f9d0",
        webhook_secret_hex: str = (
            "8c1a4f2e9b7d3c6a5e0f1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f506"
            "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f809"
        ),
        *,
        page_size: int = 64,
    ) -> None:
        self.api_key = api_key
        self.webhook_secret_hex = webhook_secret_hex
        self.page_size = page_size
        self.requests: list[RecordedRequest] = []
        self.organization: dict[str, Any] = {
            "id": new_id(),
            "name": "ToteTaxi (stub)",
            "email": "dispatch@totetaxi.example",
            "timeCreated": now_ms(),
            "timeLastModified": now_ms(),
            "country": "US",
            "timezone": "America/New_York",
            "delegatees": [],
        }
        #: Task id -> task (creation order).
        self.tasks: dict[str, dict[str, Any]] = {}
        #: Worker id -> worker.
        self.workers: dict[str, dict[str, Any]] = {}
        #: The organisation's container: the unassigned tasks, in order.
        self.unassigned: list[str] = []
        self._faults: list[_Fault] = []
        self._lock = threading.RLock()
        self.add_worker("Ada Driver", "+12125550101", vehicle="CAR", description="Blue Transit van")
        self.add_worker("Ben Rider", "+12125550102", vehicle="BICYCLE", on_duty=False)
        self._serve(_handler_for(self), "onfleet-stub")

    # --- lifecycle ----------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The API's base URL (Onfleet's is ``https://onfleet.com/api/v2``)."""
        return f"http://127.0.0.1:{self.port}/api/v2"

    # --- test helpers: faults and records ----------------------------------------------

    def fail_next(
        self,
        status: int = 500,
        *,
        count: int = 1,
        headers: dict[str, str] | None = None,
        code: str | None = None,
        message: str | None = None,
    ) -> None:
        """Answer the next ``count`` requests with ``status`` before they reach an endpoint. A
        429 without ``headers`` carries :func:`rate_limit_headers` (reset in 1 s)."""
        if status == 429:
            code = code or "TooManyRequests"
            message = message or "You have exceeded your rate limit. Please slow down."
            subcode = 2300
            if headers is None:
                headers = rate_limit_headers()
        else:
            code = code or ("InternalServerError" if status >= 500 else "InvalidContent")
            message = message or "An internal error occurred."
            subcode = 2500 if status >= 500 else 1000
        with self._lock:
            for _ in range(count):
                self._faults.append(
                    _Fault(status, error_body(code, subcode, message), dict(headers or {}))
                )

    def requests_to(self, method: str, path: str) -> list[RecordedRequest]:
        """Recorded requests with that method and API path (``POST``, ``/tasks``)."""
        return [r for r in self.requests if r.method == method.upper() and r.path == path]

    # --- test helpers: playing the fleet ------------------------------------------------

    def add_worker(
        self,
        name: str,
        phone: str,
        *,
        vehicle: str = "CAR",
        description: str = "",
        on_duty: bool = True,
        location: tuple[float, float] | None = (40.7484, -73.9857),
    ) -> dict[str, Any]:
        """A new worker (driver); ``location`` is (lat, lng), stored as Onfleet's [lng, lat]."""
        worker_id = new_id()
        worker = {
            "id": worker_id,
            "name": name,
            "phone": phone,
            "organization": self.organization["id"],
            "timeCreated": now_ms(),
            "timeLastModified": now_ms(),
            "timeLastSeen": now_ms(),
            "onDuty": on_duty,
            "activeTask": None,
            "tasks": [],
            "teams": [],
            "capacity": 0,
            "displayName": None,
            "imageUrl": None,
            "metadata": [],
            "userData": {"appVersion": "6.1.0", "platform": "IOS"},
            "accountStatus": "ACCEPTED",
            "delayTime": None,
            "location": None if location is None else [location[1], location[0]],
            "vehicle": {
                "id": new_id(),
                "type": vehicle,
                "description": description,
                "licensePlate": "",
                "color": "",
                "timeLastModified": now_ms(),
            },
        }
        with self._lock:
            self.workers[worker_id] = worker
        return copy.deepcopy(worker)

    @property
    def worker_ids(self) -> list[str]:
        return list(self.workers)

    def set_duty(self, worker_id: str, on_duty: bool) -> None:
        with self._lock:
            self.workers[worker_id]["onDuty"] = on_duty

    def move(self, worker_id: str, latitude: float, longitude: float) -> None:
        """The worker's phone reports a new position (stored GeoJSON-ordered)."""
        with self._lock:
            self.workers[worker_id]["location"] = [longitude, latitude]

    def start(self, task_id: str, worker_id: str | None = None) -> dict[str, Any]:
        """The worker starts the task (assigning it to ``worker_id`` first when given): state 2,
        the task leaves its container, arrival estimated 10 minutes from now."""
        with self._lock:
            task = self.tasks[task_id]
            if worker_id is not None and task["worker"] != worker_id:
                self._set_worker(task, worker_id)
            if task["state"] != 1:
                raise ValueError(f"{task_id} is in state {task['state']}, not assigned (1)")
            worker = self.workers[task["worker"]]
            worker["tasks"].remove(task_id)
            worker["activeTask"] = task_id
            now = now_ms()
            task.update(
                state=2,
                container=None,
                estimatedArrivalTime=now + 600_000,
                estimatedCompletionTime=now + 900_000,
                timeLastModified=now,
            )
            return copy.deepcopy(task)

    def complete(
        self,
        task_id: str,
        success: bool = True,
        *,
        failure_reason: str = "NONE",
        failure_notes: str = "",
        notes: str = "",
        photo_upload_ids: tuple[str, ...] = (),
        signature_upload_id: str | None = None,
    ) -> dict[str, Any]:
        """The worker completes (or fails) the active task, with proof (upload ids)."""
        with self._lock:
            task = self.tasks[task_id]
            if task["state"] == 1:
                self.start(task_id)
            if task["state"] != 2:
                raise ValueError(f"{task_id} is in state {task['state']}, not active (2)")
            worker = self.workers[task["worker"]]
            worker["activeTask"] = None
            now = now_ms()
            details = task["completionDetails"]
            details.update(
                success=success,
                time=now,
                notes=notes,
                failureReason="NONE" if success else failure_reason,
                failureNotes="" if success else failure_notes,
                photoUploadId=photo_upload_ids[0] if photo_upload_ids else None,
                photoUploadIds=list(photo_upload_ids),
                signatureUploadId=signature_upload_id,
                lastLocation=copy.deepcopy(worker["location"]) or [],
            )
            task.update(
                state=3,
                estimatedArrivalTime=None,
                estimatedCompletionTime=None,
                timeLastModified=now,
            )
            return copy.deepcopy(task)

    def sign(self, body: bytes, *, secret_hex: str | None = None) -> str:
        """The ``X-Onfleet-Signature`` of ``body`` (the stub's secret by default)."""
        return sign(secret_hex or self.webhook_secret_hex, body)

    def webhook(
        self,
        trigger: str | int,
        task_id: str | None = None,
        *,
        worker_id: str | None = None,
        at_ms: int | None = None,
        eta_seconds: float | None = None,
        distance: float | None = None,
        secret_hex: str | None = None,
    ) -> tuple[bytes, dict[str, str]]:
        """A webhook delivery for ``trigger`` (name or id) about the task (or, for workerDuty,
        the worker) as it is now: ``(raw body, headers)`` signed like Onfleet's.

        ``worker_id`` defaults to the task's worker; ``at_ms`` (the delivery's ``time``) to now.
        taskEta carries ``etaSeconds`` (default 300), taskArrival ``distance`` in metres
        (default 150), workerDuty ``status`` (1 on duty, 0 off) from the worker.
        """
        number = trigger if isinstance(trigger, int) else TRIGGERS[trigger]
        name = TRIGGER_NAMES[number]
        with self._lock:
            task = copy.deepcopy(self.tasks[task_id]) if task_id else None
            if worker_id is None and task is not None:
                worker_id = task["worker"]
            worker = copy.deepcopy(self.workers[worker_id]) if worker_id else None
        payload: dict[str, Any] = {
            "actionContext": (
                {"type": "WORKER", "id": worker_id}
                if worker_id and number in (0, 1, 2, 3, 4, 5)
                else {"type": "ADMIN", "id": new_id()}
            ),
            "time": at_ms if at_ms is not None else now_ms(),
            "triggerId": number,
            "triggerName": name,
            "data": {},
        }
        if number == 5:
            if worker is None:
                raise ValueError("workerDuty needs a worker_id")
            payload["workerId"] = worker_id
            payload["status"] = 1 if worker["onDuty"] else 0
            payload["data"] = {"worker": worker}
        else:
            if task is None:
                raise ValueError(f"{name} needs a task_id")
            payload["taskId"] = task["id"]
            payload["workerId"] = worker_id
            payload["data"]["task"] = task
            if worker is not None:
                payload["data"]["worker"] = worker
            if number == 1:
                payload["etaSeconds"] = 300 if eta_seconds is None else eta_seconds
            if number == 2:
                payload["distance"] = 150 if distance is None else distance
        body = json.dumps(payload).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Onfleet-Webhooks/2.0",
            "X-Onfleet-Signature": self.sign(body, secret_hex=secret_hex),
        }
        return body, headers

    # --- the HTTP side ------------------------------------------------------------------

    def handle(
        self, method: str, target: str, headers: Message, body: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        """Answer one request: ``(status, JSON body or None, extra headers)``."""
        parts = urlsplit(target)
        path = parts.path.removeprefix("/api/v2")
        record = RecordedRequest(method, path, parse_qs(parts.query), headers, body)
        with self._lock:
            self.requests.append(record)
            status, answer, extra = self._answer(method, path, headers, record)
            record.status, record.response = status, answer
        return status, answer, extra

    def _answer(
        self, method: str, path: str, headers: Message, record: RecordedRequest
    ) -> tuple[int, Any, dict[str, str]]:
        credentials = record.basic_auth
        if credentials is None or not secrets.compare_digest(
            credentials[0].encode(), self.api_key.encode()
        ):
            failure = OnfleetFailure(
                401,
                "InvalidCredentials",
                1102,
                "The API key provided is invalid.",
                "This key does not exist or is no longer active.",
            )
            return failure.status, failure.body, {}
        if self._faults:
            fault = self._faults.pop(0)
            return fault.status, copy.deepcopy(fault.body), dict(fault.headers)
        try:
            if record.body:
                try:
                    record.json = json.loads(record.body)
                except ValueError:
                    raise invalid("Body is not valid JSON") from None
            return 200, self._route(method, path, record), {}
        except OnfleetFailure as failure:
            return failure.status, failure.body, {}

    def _route(self, method: str, path: str, record: RecordedRequest) -> Any:
        segments = [unquote(s) for s in path.strip("/").split("/")]
        query = {key: values[-1] for key, values in record.query.items()}
        body = record.json
        match method, segments:
            case "GET", ["auth", "test"]:
                return {"message": f"Hello organization {self.organization['id']}!"}
            case "GET", ["organization"]:
                return copy.deepcopy(self.organization)
            case "POST", ["tasks"]:
                return self._create_task(body)
            case "GET", ["tasks", "all"]:
                return self._list_tasks(query)
            case "GET", ["tasks", task_id]:
                return copy.deepcopy(self._task(task_id))
            case "PUT", ["tasks", task_id]:
                return self._update_task(self._task(task_id), body)
            case "DELETE", ["tasks", task_id]:
                self._delete_task(self._task(task_id))
                return None
            case "GET", ["workers"]:
                return [copy.deepcopy(w) for w in self.workers.values()]
            case "GET", ["workers", worker_id]:
                return copy.deepcopy(self._worker(worker_id))
            case "GET", ["containers", kind, entity_id]:
                return self._container(kind, entity_id)
            case "PUT", ["containers", kind, entity_id]:
                return self._set_container(kind, entity_id, body)
        raise OnfleetFailure(
            404, "ResourceNotFound", 1400, "The requested resource does not exist.", path
        )

    # --- tasks --------------------------------------------------------------------------

    def _task(self, task_id: str) -> dict[str, Any]:
        if task_id not in self.tasks:
            raise not_found("Task", task_id)
        return self.tasks[task_id]

    def _worker(self, worker_id: str) -> dict[str, Any]:
        if worker_id not in self.workers:
            raise not_found("Worker", worker_id)
        return self.workers[worker_id]

    def _create_task(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise invalid("Body must be a JSON object")
        unknown = sorted(set(body) - TASK_FIELDS)
        if unknown:
            raise invalid(f"Unknown properties: {', '.join(unknown)}")
        destination = self._destination(body.get("destination"))
        recipients = self._recipients(body.get("recipients"))
        after, before = self._window(body.get("completeAfter"), body.get("completeBefore"))
        metadata = self._metadata(body.get("metadata", []))
        dependencies = body.get("dependencies", [])
        if not isinstance(dependencies, list) or any(d not in self.tasks for d in dependencies):
            raise invalid(f"Unknown dependencies: {dependencies!r}")
        notes = body.get("notes", "")
        if not isinstance(notes, str) or len(notes) > 10_000:
            raise invalid("notes must be a string of at most 10000 characters")
        task_id = new_id()
        short_id = hashlib.sha256(task_id.encode()).hexdigest()[:8]
        now = now_ms()
        task: dict[str, Any] = {
            "id": task_id,
            "timeCreated": now,
            "timeLastModified": now,
            "organization": self.organization["id"],
            "shortId": short_id,
            "trackingURL": f"https://onf.lt/{short_id}",
            "worker": None,
            "merchant": self.organization["id"],
            "executor": self.organization["id"],
            "creator": self.organization["id"],
            "dependencies": list(dependencies),
            "state": 0,
            "completeAfter": after,
            "completeBefore": before,
            "pickupTask": bool(body.get("pickupTask", False)),
            "notes": notes,
            "completionDetails": {
                "failureNotes": "",
                "failureReason": "NONE",
                "events": [],
                "actions": [],
                "time": None,
                "firstLocation": [],
                "lastLocation": [],
                "unavailableAttachments": [],
            },
            "feedback": [],
            "metadata": metadata,
            "overrides": {},
            "quantity": body.get("quantity", 0),
            "serviceTime": body.get("serviceTime", 0),
            "container": {"type": "ORGANIZATION", "organization": self.organization["id"]},
            "trackingViewed": False,
            "recipients": recipients,
            "destination": destination,
            "estimatedArrivalTime": None,
            "estimatedCompletionTime": None,
            "eta": None,
            "delayTime": None,
        }
        container = body.get("container")
        if container is not None:
            worker_id = self._worker_container(container)
            self.tasks[task_id] = task
            self._set_worker(task, worker_id)
        else:
            self.tasks[task_id] = task
            self.unassigned.append(task_id)
        return copy.deepcopy(task)

    def _destination(self, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict) or not isinstance(value.get("address"), dict):
            raise invalid("A destination with an address is required")
        address = value["address"]
        if address.get("unparsed"):
            stored = {"unparsed": str(address["unparsed"])}
        elif all(address.get(k) for k in ("number", "street", "city", "country")):
            stored = {
                k: str(address.get(k, ""))
                for k in ("name", "number", "street", "city", "state", "postalCode", "country")
            }
        else:
            raise invalid("Address needs unparsed, or number, street, city and country")
        stored["apartment"] = str(address.get("apartment", ""))
        location = value.get("location", DEFAULT_LOCATION)
        if (
            not isinstance(location, list)
            or len(location) != 2
            or not all(isinstance(c, int | float) for c in location)
            or not (-180 <= location[0] <= 180 and -90 <= location[1] <= 90)
        ):
            raise invalid("location must be [longitude, latitude]")
        return {
            "id": new_id(),
            "timeCreated": now_ms(),
            "timeLastModified": now_ms(),
            "location": list(location),
            "address": stored,
            "notes": str(value.get("notes", "")),
            "metadata": [],
            "warnings": [],
        }

    def _recipients(self, value: Any) -> list[dict[str, Any]]:
        if not isinstance(value, list) or not value:
            raise invalid("At least one recipient is required")
        recipients = []
        for item in value:
            if not isinstance(item, dict) or not item.get("name") or not item.get("phone"):
                raise invalid("A recipient needs a name and a phone")
            digits = "".join(c for c in str(item["phone"]) if c.isdigit())
            if len(digits) < 7:
                raise invalid(f"Invalid phone {item['phone']!r}", error=1010)
            recipients.append(
                {
                    "id": new_id(),
                    "organization": self.organization["id"],
                    "timeCreated": now_ms(),
                    "timeLastModified": now_ms(),
                    "name": str(item["name"]),
                    "phone": "+" + digits
                    if not str(item["phone"]).startswith("+")
                    else item["phone"],
                    "notes": str(item.get("notes", "")),
                    "skipSMSNotifications": bool(item.get("skipSMSNotifications", False)),
                    "metadata": [],
                }
            )
        return recipients

    def _window(self, after: Any, before: Any) -> tuple[int | None, int | None]:
        for value in (after, before):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise invalid("completeAfter and completeBefore are epoch milliseconds", error=1009)
            # Epoch seconds are a classic mistake: they read as January 1970 in milliseconds.
            if value is not None and value < 100_000_000_000:
                raise invalid("Times must be in milliseconds", error=1009)
        if after is not None and before is not None and after >= before:
            raise invalid("completeAfter must be before completeBefore", error=1009)
        return after, before

    def _metadata(self, value: Any) -> list[dict[str, Any]]:
        if not isinstance(value, list):
            raise invalid("metadata must be an array")
        names = set()
        for entry in value:
            if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                raise invalid("A metadata entry needs a name")
            expected = METADATA_TYPES.get(entry.get("type"))
            if expected is None or not isinstance(entry.get("value"), expected):
                raise invalid(f"Metadata {entry['name']}: value does not match type")
            if entry["name"] in names:
                raise invalid(f"Duplicate metadata {entry['name']}", error=1004)
            names.add(entry["name"])
        return copy.deepcopy(value)

    def _worker_container(self, container: Any) -> str:
        if not isinstance(container, dict) or container.get("type") != "WORKER":
            raise invalid("container.type must be WORKER (or TEAM, which the stub lacks)")
        worker_id = container.get("worker")
        if worker_id not in self.workers:
            raise invalid(f"Unknown worker {worker_id!r}")
        return str(worker_id)

    def _detach(self, task: dict[str, Any]) -> None:
        """Take the task out of whatever container holds it."""
        if task["id"] in self.unassigned:
            self.unassigned.remove(task["id"])
        if task["worker"] and task["id"] in self.workers[task["worker"]]["tasks"]:
            self.workers[task["worker"]]["tasks"].remove(task["id"])

    def _set_worker(self, task: dict[str, Any], worker_id: str | None, index: int = -1) -> None:
        if task["state"] in (2, 3):
            raise invalid("An active or completed task cannot be reassigned")
        self._detach(task)
        if worker_id is None:
            task.update(
                state=0,
                worker=None,
                container={"type": "ORGANIZATION", "organization": self.organization["id"]},
            )
            tasks = self.unassigned
        else:
            task.update(
                state=1, worker=worker_id, container={"type": "WORKER", "worker": worker_id}
            )
            tasks = self.workers[worker_id]["tasks"]
        tasks.insert(len(tasks) if index == -1 else index, task["id"])
        task["timeLastModified"] = now_ms()

    def _update_task(self, task: dict[str, Any], body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise invalid("Body must be a JSON object")
        unknown = sorted(set(body) - UPDATE_FIELDS)
        if unknown:
            raise invalid(f"Unknown or read-only properties: {', '.join(unknown)}")
        if task["state"] == 3:
            raise invalid("A completed task cannot be updated")
        if "completeAfter" in body or "completeBefore" in body:
            after, before = self._window(
                body.get("completeAfter", task["completeAfter"]),
                body.get("completeBefore", task["completeBefore"]),
            )
            task.update(completeAfter=after, completeBefore=before)
        if "metadata" in body:
            task["metadata"] = self._metadata(body["metadata"])
        if "notes" in body:
            task["notes"] = str(body["notes"])
        if "container" in body:
            self._set_worker(task, self._worker_container(body["container"]))
        task["timeLastModified"] = now_ms()
        return copy.deepcopy(task)

    def _delete_task(self, task: dict[str, Any]) -> None:
        if task["state"] in (2, 3):
            raise invalid("An active or completed task cannot be deleted")
        self._detach(task)
        del self.tasks[task["id"]]

    def _list_tasks(self, query: dict[str, str]) -> dict[str, Any]:
        try:
            start = int(query["from"])
            end = int(query["to"]) if "to" in query else None
        except (KeyError, ValueError):
            raise OnfleetFailure(
                400,
                "InvalidArgument",
                1000,
                "The values of one or more parameters are invalid.",
                "from (epoch milliseconds) is required",
            ) from None

        def when(task: dict[str, Any]) -> int:
            # Onfleet compares completed tasks by completion time, the others by creation.
            if task["state"] == 3:
                return int(task["completionDetails"]["time"])
            return int(task["timeCreated"])

        matching = [
            task
            for task in self.tasks.values()
            if when(task) >= start and (end is None or when(task) <= end)
        ]
        last_id = query.get("lastId")
        if last_id:
            ids = [task["id"] for task in matching]
            matching = matching[ids.index(last_id) + 1 :] if last_id in ids else []
        page = matching[: self.page_size]
        answer: dict[str, Any] = {"tasks": [copy.deepcopy(task) for task in page]}
        if len(matching) > self.page_size:
            answer["lastId"] = page[-1]["id"]
        return answer

    # --- containers ---------------------------------------------------------------------

    def _container(self, kind: str, entity_id: str) -> dict[str, Any]:
        if kind == "organizations" and entity_id == self.organization["id"]:
            tasks = self.unassigned
            answer = {"type": "ORGANIZATION", "organization": entity_id}
        elif kind == "workers" and entity_id in self.workers:
            tasks = self.workers[entity_id]["tasks"]
            answer = {"type": "WORKER", "worker": entity_id}
        else:
            raise not_found("Container", f"{kind}/{entity_id}")
        return {"id": new_id(), "tasks": list(tasks), "timeLastModified": now_ms(), **answer}

    def _set_container(self, kind: str, entity_id: str, body: Any) -> dict[str, Any]:
        self._container(kind, entity_id)  # 404 for an unknown one
        worker_id = entity_id if kind == "workers" else None
        if not isinstance(body, dict) or not isinstance(body.get("tasks"), list):
            raise invalid("tasks must be an array")
        items = list(body["tasks"])
        index: int | None = None
        if items and isinstance(items[0], int) and not isinstance(items[0], bool):
            index = items.pop(0)
        for task_id in items:
            if task_id not in self.tasks:
                raise invalid(f"Unknown task {task_id!r}")
            if self.tasks[task_id]["state"] in (2, 3):
                raise invalid(f"Task {task_id} is active or completed")
        current = self.unassigned if worker_id is None else self.workers[worker_id]["tasks"]
        if index is None:
            # Replace: tasks left out go back to the organisation's container.
            for task_id in [t for t in current if t not in items]:
                self._set_worker(self.tasks[task_id], None)
            for task_id in items:
                self._set_worker(self.tasks[task_id], worker_id)
        else:
            position = index
            for task_id in items:
                target = len(current) if position == -1 else min(position, len(current))
                self._set_worker(self.tasks[task_id], worker_id, index=target)
                if position != -1:
                    position += 1
        return self._container(kind, entity_id)


def _handler_for(stub: OnfleetStub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "onfleet-stub/1.0"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            status, answer, extra = stub.handle(self.command, self.path, self.headers, body)
            data = b"" if answer is None else json.dumps(answer).encode()
            self.send_response(status, STATUS_TEXT.get(status))
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in extra.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
