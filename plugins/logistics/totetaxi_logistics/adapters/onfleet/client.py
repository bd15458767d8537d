"""The ``dispatcher`` slot against Onfleet's REST API v2 (https://docs.onfleet.com/reference).

:class:`OnfleetDispatcher` speaks JSON over one kept :class:`httpx.Client`, authenticated with
HTTP basic auth (the API key as user name, an empty password: Onfleet's scheme). What it maps:

* our :class:`~totetaxi_logistics.interfaces.TaskRequest` → an Onfleet task (``POST /tasks``)
  whose ``metadata`` carries our task id (``totetaxi_task_id``) and booking number
  (``totetaxi_booking``), visible to the API only, so that :meth:`OnfleetDispatcher.find_task`
  can find a task whose creation we never heard back from;
* Onfleet's task ``state`` (0 unassigned, 1 assigned, 2 active, 3 completed, where a completed
  task with ``completionDetails.success`` false is a failed one) → our
  ``created``/``assigned``/``in_progress``/``completed``/``failed``;
* a webhook delivery (one trigger per webhook, signed in ``X-Onfleet-Signature``: hex
  HMAC-SHA512 of the raw body, keyed with the webhook secret *decoded from hex*, PITFALLS 15) →
  :class:`~totetaxi_logistics.interfaces.TaskEvent` values.

Errors: every failure is a :class:`~totetaxi_logistics.interfaces.DispatcherError`; refused
input and credentials (4xx) are ``permanent``, while 408, 412 (Onfleet's container lock
contention), 429, 5xx, timeouts and connection errors are not. A 429 is the one answer retried
inside a call, a bounded number of times, sleeping what Onfleet's rate-limit headers say
(Onfleet throttles per API key over a short window, so a short wait usually gets through);
the calling task's backoff does everything else.

Times on the wire are epoch **milliseconds**; positions are GeoJSON-ordered ``[lng, lat]``.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import hmac
import json
import math
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

import httpx

from totetaxi_logistics.interfaces import (
    DispatcherError,
    EventKind,
    ProviderDriver,
    ProviderTask,
    TaskEvent,
    TaskRequest,
    TaskState,
    WebhookRefused,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "METADATA_BOOKING",
    "METADATA_REFERENCE",
    "TRIGGERS",
    "OnfleetDispatcher",
    "event_from_payload",
    "signature",
]

DEFAULT_BASE_URL = "https://onfleet.com/api/v2"

#: The task metadata fields we write (and read back in find_task).
METADATA_REFERENCE = "totetaxi_task_id"
METADATA_BOOKING = "totetaxi_booking"

#: The header Onfleet signs webhook deliveries in.
SIGNATURE_HEADER = "X-Onfleet-Signature"

#: Onfleet's webhook trigger ids (docs.onfleet.com/reference/webhooks) we follow, with the kind
#: of event each becomes. The others (taskCreated 6, taskUpdated 7, taskDeleted 8, taskDelayed
#: 12, ...) are left out: our own calls made those changes, or they say nothing we apply.
TRIGGERS: dict[int, tuple[str, EventKind]] = {
    0: ("taskStarted", "started"),
    1: ("taskEta", "eta"),
    2: ("taskArrival", "arrived"),
    3: ("taskCompleted", "completed"),
    4: ("taskFailed", "failed"),
    5: ("workerDuty", "driver_duty"),
    9: ("taskAssigned", "assigned"),
    10: ("taskUnassigned", "unassigned"),
}
_TRIGGER_IDS = {name: trigger for trigger, (name, _kind) in TRIGGERS.items()}

#: Onfleet task state codes → ours (3 is split by completionDetails.success).
_STATES: dict[int, TaskState] = {0: "created", 1: "assigned", 2: "in_progress", 3: "completed"}

#: Longest wait on a 429 inside a call; a longer advice goes back to the caller in
#: ``DispatcherError.retry_after`` rather than holding a worker.
MAX_RATE_LIMIT_SLEEP = 5.0
#: The wait on a 429 that came without any rate-limit header.
DEFAULT_RATE_LIMIT_SLEEP = 1.0

#: Statuses below 500 that are still worth retrying later: refused credentials (a revoked or
#: mistyped key is an operator's incident: every task must wait for the fix, not fail for
#: good), a request timeout, Onfleet's container lock contention ("slow down a bit", docs:
#: Containers) and the rate limit.
_TRANSIENT_4XX = frozenset({401, 403, 408, 412, 429})

#: Epoch values above this are milliseconds (1e11 s is the year 5138; 1e11 ms is 1973).
_MS_THRESHOLD = 100_000_000_000


def signature(secret_hex: str, body: bytes) -> str:
    """Onfleet's ``X-Onfleet-Signature`` of ``body``: hex HMAC-SHA512 keyed with the webhook
    secret decoded from hex (PITFALLS 15: using the hex text itself as the key never matches)."""
    return hmac.new(bytes.fromhex(secret_hex), body, hashlib.sha512).hexdigest()


def _ms(value: dt.datetime) -> int:
    """An aware datetime as epoch milliseconds (Onfleet's time format)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value!r}: pass an aware (UTC) datetime")
    return round(value.timestamp() * 1000)


def _from_epoch(value: Any) -> dt.datetime | None:
    """An Onfleet timestamp (milliseconds; seconds accepted, see ``_MS_THRESHOLD``) as an aware
    UTC datetime, ``None`` when absent or not a number."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return None
    seconds = value / 1000 if value > _MS_THRESHOLD else value
    try:
        return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _metadata_value(task: Mapping[str, Any], name: str) -> str:
    for entry in task.get("metadata") or []:
        if isinstance(entry, dict) and entry.get("name") == name:
            value = entry.get("value")
            return value if isinstance(value, str) else ""
    return ""


def _task_eta(task: Mapping[str, Any]) -> dt.datetime | None:
    """The task's estimate of arrival: ``estimatedArrivalTime``, else ``eta``, else
    ``estimatedCompletionTime`` (all epoch ms on Onfleet tasks; ``null`` until a worker has
    started towards it)."""
    for field_name in ("estimatedArrivalTime", "eta", "estimatedCompletionTime"):
        at = _from_epoch(task.get(field_name))
        if at is not None:
            return at
    return None


def _task_driver(task: Mapping[str, Any]) -> str | None:
    """The worker holding the task: its WORKER container, or ``worker`` (the only place an
    active or completed task names its worker: a started task leaves every container)."""
    container = _dict(task.get("container"))
    if container.get("type") == "WORKER" and container.get("worker"):
        return str(container["worker"])
    worker = task.get("worker")
    return str(worker) if isinstance(worker, str) and worker else None


def _task_state(task: Mapping[str, Any]) -> TaskState:
    code = task.get("state")
    if code == 3 and _dict(task.get("completionDetails")).get("success") is False:
        return "failed"
    if isinstance(code, int) and code in _STATES:
        return _STATES[code]
    raise DispatcherError(f"Onfleet answered a task in an unknown state {code!r}")


def _provider_task(task: Any) -> ProviderTask:
    """An Onfleet task object as our :class:`ProviderTask`."""
    if not isinstance(task, dict) or not isinstance(task.get("id"), str):
        raise DispatcherError("Onfleet answered something that is not a task")
    return ProviderTask(
        provider_id=task["id"],
        reference=_metadata_value(task, METADATA_REFERENCE),
        state=_task_state(task),
        tracking_url=_str(task.get("trackingURL")),
        driver_id=_task_driver(task),
        eta=_task_eta(task),
    )


def _error(response: httpx.Response) -> DispatcherError:
    """A :class:`DispatcherError` from an Onfleet error answer:
    ``{"code": "InvalidArgument", "message": {"error": 1000, "message": ..., "cause": ...,
    "request": ...}}`` (the request id is what Onfleet's support asks for)."""
    status = response.status_code
    text = f"Onfleet answered {status}"
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        detail = body.get("message")
        code = _str(body.get("code"))
        if isinstance(detail, dict):
            parts = [f"{code} {detail.get('error', '')}".strip(), _str(detail.get("message"))]
            cause = detail.get("cause")
            if cause:
                parts.append(f"cause: {cause if isinstance(cause, str) else json.dumps(cause)}")
            if detail.get("request"):
                parts.append(f"request {detail['request']}")
            text = f"{text}: " + "; ".join(part for part in parts if part)
        elif isinstance(detail, str):
            text = f"{text}: {code} {detail}".rstrip()
    permanent = 400 <= status < 500 and status not in _TRANSIENT_4XX
    return DispatcherError(text, permanent=permanent)


def _rate_limit_delay(headers: httpx.Headers, now: float) -> float | None:
    """What a 429's headers say to wait, in seconds: ``Retry-After`` (seconds or an HTTP date),
    else ``X-RateLimit-Reset`` (epoch seconds of the window's reset) minus now; ``None`` when
    neither is readable."""
    retry_after = headers.get("Retry-After")
    if retry_after:
        try:
            return max(0.0, float(retry_after))
        except ValueError:
            try:
                when = email.utils.parsedate_to_datetime(retry_after)
            except (TypeError, ValueError):
                when = None
            if when is not None and when.tzinfo is not None:
                return max(0.0, when.timestamp() - now)
    reset = headers.get("X-RateLimit-Reset")
    if reset:
        try:
            value = float(reset)
        except ValueError:
            return None
        if value > _MS_THRESHOLD:
            value /= 1000
        return max(0.0, value - now)
    return None


class OnfleetDispatcher:
    """The ``dispatcher`` slot on Onfleet (see the module's documentation).

    ``api_key`` is an Onfleet API key; ``webhook_secret_hex`` the organisation's webhook secret
    as Onfleet shows it (hex); ``previous_webhook_secrets_hex`` secrets still accepted (never
    more than the overlap of a rotation: Onfleet signs with one secret only). ``sleep`` is what
    waits between rate-limited attempts (tests pass a recorder). Close with :meth:`close` (or
    use as a context manager) to release connections.
    """

    name = "onfleet"

    def __init__(
        self,
        api_key: str,
        webhook_secret_hex: str,
        *,
        previous_webhook_secrets_hex: Sequence[str] = (),
        base_url: str = DEFAULT_BASE_URL,
        timeout: float = 10.0,
        max_rate_limit_retries: int = 2,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not api_key:
            raise ValueError("an Onfleet API key is required")
        try:
            self._webhook_key = bytes.fromhex(webhook_secret_hex)
        except ValueError:
            raise ValueError(
                "the Onfleet webhook secret must be hex (as Onfleet shows it)"
            ) from None
        if not self._webhook_key:
            # An empty key would make any body's signature computable by anyone.
            raise ValueError("the Onfleet webhook secret is empty")
        try:
            previous = [bytes.fromhex(value) for value in previous_webhook_secrets_hex]
        except ValueError:
            raise ValueError(
                "the previous Onfleet webhook secrets must be hex (as Onfleet shows them)"
            ) from None
        self._webhook_keys = (self._webhook_key, *(key for key in previous if key))
        self.max_rate_limit_retries = max(0, max_rate_limit_retries)
        self._sleep = sleep
        self._organization_id: str | None = None
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"),
            auth=httpx.BasicAuth(api_key, ""),
            timeout=httpx.Timeout(timeout),
            headers={"Accept": "application/json", "User-Agent": "totetaxi-logistics"},
        )

    # --- lifecycle ----------------------------------------------------------------------

    @property
    def client(self) -> httpx.Client:
        """The kept HTTP client (for inspection; calls go through the dispatcher's methods)."""
        return self._client

    def close(self) -> None:
        """Release the HTTP client's connections."""
        self._client.close()

    def __enter__(self) -> OnfleetDispatcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- the Dispatcher protocol --------------------------------------------------------

    def create_task(self, request: TaskRequest) -> ProviderTask:
        """``POST /tasks`` with the request as an Onfleet task."""
        return _provider_task(self._request("POST", "/tasks", json=self.task_body(request)))

    def find_task(self, reference: str, created_after: dt.datetime) -> ProviderTask | None:
        """Walk ``GET /tasks/all?from=`` (64 a page, ``lastId`` to go on) for the task whose
        metadata carries ``reference``. Onfleet compares ``from`` with the creation time (the
        completion time for completed tasks, never earlier), so no task of ours is skipped."""
        params: dict[str, str] = {"from": str(_ms(created_after))}
        seen: set[str] = set()
        while True:
            page = self._request("GET", "/tasks/all", params=params)
            if not isinstance(page, dict):
                raise DispatcherError("Onfleet answered a task list that is not an object")
            for task in page.get("tasks") or []:
                if isinstance(task, dict) and (
                    _metadata_value(task, METADATA_REFERENCE) == reference
                ):
                    return _provider_task(task)
            last_id = page.get("lastId")
            # A repeated lastId would loop for ever; Onfleet omits it on the last page.
            if not isinstance(last_id, str) or not last_id or last_id in seen:
                return None
            seen.add(last_id)
            params["lastId"] = last_id

    def get_task(self, provider_id: str) -> ProviderTask | None:
        """``GET /tasks/{id}``; a 404 (unknown or deleted) answers ``None``."""
        task = self._request("GET", f"/tasks/{_path(provider_id)}", allow_404=True)
        return None if task is None else _provider_task(task)

    def cancel_task(self, provider_id: str) -> None:
        """``DELETE /tasks/{id}``; a 404 means it is gone already, which is what we wanted.
        Onfleet refuses to delete a started or completed task (a permanent error)."""
        self._request("DELETE", f"/tasks/{_path(provider_id)}", allow_404=True)

    def assign(self, provider_id: str, driver_id: str | None) -> ProviderTask:
        """Assign to a worker with ``PUT /tasks/{id}`` and a WORKER ``container`` (Onfleet's
        manual assignment, appended to the worker's list).

        Unassigning: a task's ``container`` accepts only WORKER or TEAM (docs: Manual
        Assignment), so the task is inserted at the end of the organisation's own container
        (``PUT /containers/organizations/{org}`` with ``{"tasks": [-1, id]}``; a task set into a
        container leaves its previous one, and tasks in the organisation's container are what
        the dashboard shows as unassigned). The organisation id comes from
        ``GET /organization``, once.
        """
        path = f"/tasks/{_path(provider_id)}"
        if driver_id is not None:
            body = {"container": {"type": "WORKER", "worker": driver_id}}
            return _provider_task(self._request("PUT", path, json=body))
        organization = self._organization()
        self._request(
            "PUT",
            f"/containers/organizations/{_path(organization)}",
            json={"tasks": [-1, provider_id]},
        )
        return _provider_task(self._request("GET", path))

    def list_drivers(self) -> list[ProviderDriver]:
        """``GET /workers``: every worker of the organisation (all listed are active; Onfleet
        deletes rather than deactivates workers)."""
        workers = self._request("GET", "/workers")
        if not isinstance(workers, list):
            raise DispatcherError("Onfleet answered a worker list that is not a list")
        drivers = []
        for worker in workers:
            if not isinstance(worker, dict) or not isinstance(worker.get("id"), str):
                continue
            vehicle = _dict(worker.get("vehicle"))
            drivers.append(
                ProviderDriver(
                    provider_id=worker["id"],
                    name=_str(worker.get("name")),
                    phone=_str(worker.get("phone")),
                    vehicle=_str(vehicle.get("description")) or _str(vehicle.get("type")).lower(),
                    active=True,
                    on_duty=worker.get("onDuty") is True,
                )
            )
        return drivers

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> None:
        """Refuse unless ``X-Onfleet-Signature`` (looked up case-insensitively) is the hex
        HMAC-SHA512 of the raw ``body`` under the hex-decoded webhook secret (or one of the
        previous secrets, during a rotation)."""
        wanted = SIGNATURE_HEADER.lower()
        given = next((v for k, v in headers.items() if k.lower() == wanted), None)
        if not given:
            raise WebhookRefused(f"missing {SIGNATURE_HEADER}")
        # Bytes on both sides: compare_digest refuses non-ASCII str, and a forged header may
        # carry anything.
        given_bytes = given.strip().lower().encode()
        if not any(
            hmac.compare_digest(
                hmac.new(key, body, hashlib.sha512).hexdigest().encode(), given_bytes
            )
            for key in self._webhook_keys
        ):
            raise WebhookRefused(f"bad {SIGNATURE_HEADER}")

    def parse_webhook(self, body: bytes) -> list[TaskEvent]:
        """The event of one Onfleet webhook delivery (see :func:`event_from_payload`)."""
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise WebhookRefused(f"unreadable Onfleet webhook body: {exc}") from None
        if not isinstance(payload, dict):
            raise WebhookRefused("an Onfleet webhook body is a JSON object")
        event = event_from_payload(payload, body)
        return [] if event is None else [event]

    # --- the wire -----------------------------------------------------------------------

    @staticmethod
    def task_body(request: TaskRequest) -> dict[str, Any]:
        """The Onfleet task JSON for ``request`` (``POST /tasks``)."""
        place = request.place
        # One unparsed line lets Onfleet's geocoder split number and street (our Place keeps
        # them together); with unparsed present Onfleet ignores the other address fields
        # except apartment. ToteTaxi serves US addresses only.
        address: dict[str, Any] = {
            "unparsed": f"{place.street}, {place.city}, {place.state} {place.zip_code}, USA"
        }
        if place.unit:
            address["apartment"] = place.unit
        destination: dict[str, Any] = {"address": address}
        if place.instructions:
            destination["notes"] = place.instructions
        if place.location is not None:
            latitude, longitude = place.location
            destination["location"] = [longitude, latitude]  # GeoJSON order
        # No recipient notes: Onfleet keeps them on the recipient (matched by phone) and shows
        # them on every later task of theirs; the task's own notes carry this task's words.
        body: dict[str, Any] = {
            "destination": destination,
            "recipients": [{"name": request.recipient_name, "phone": request.recipient_phone}],
            "notes": request.notes,
            "completeAfter": _ms(request.complete_after),
            "completeBefore": _ms(request.complete_before),
            "pickupTask": request.kind == "pickup",
            "metadata": [
                {
                    "name": METADATA_REFERENCE,
                    "type": "string",
                    "value": request.reference,
                    "visibility": ["api"],
                },
                {
                    "name": METADATA_BOOKING,
                    "type": "string",
                    "value": request.booking_number,
                    "visibility": ["api"],
                },
            ],
        }
        if request.depends_on:
            body["dependencies"] = [request.depends_on]
        if request.driver_id:
            body["container"] = {"type": "WORKER", "worker": request.driver_id}
        return body

    def _organization(self) -> str:
        if self._organization_id is None:
            organization = self._request("GET", "/organization")
            if not isinstance(organization, dict) or not isinstance(organization.get("id"), str):
                raise DispatcherError("Onfleet answered an organization without an id")
            self._organization_id = organization["id"]
        return self._organization_id

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        allow_404: bool = False,
    ) -> Any:
        """One call: the decoded JSON answer (``None`` for an empty one, or for a 404 when
        ``allow_404``). Retries a 429 only (bounded, see the module's documentation)."""
        attempts = 0
        while True:
            try:
                response = self._client.request(method, path, params=params, json=json)
            except httpx.TimeoutException as exc:
                raise DispatcherError(f"Onfleet timed out on {method} {path}: {exc!r}") from exc
            except httpx.HTTPError as exc:
                raise DispatcherError(f"Onfleet unreachable on {method} {path}: {exc!r}") from exc
            status = response.status_code
            if status == 429:
                delay = _rate_limit_delay(response.headers, time.time())
                if attempts < self.max_rate_limit_retries:
                    attempts += 1
                    wait = DEFAULT_RATE_LIMIT_SLEEP if delay is None else delay
                    self._sleep(min(wait, MAX_RATE_LIMIT_SLEEP))
                    continue
                error = _error(response)
                error.retry_after = delay if delay is not None else DEFAULT_RATE_LIMIT_SLEEP
                raise error
            if status == 404 and allow_404:
                return None
            if status >= 400:
                raise _error(response)
            if not response.content:
                return None
            try:
                return response.json()
            except ValueError as exc:
                raise DispatcherError(
                    f"Onfleet answered {status} with unreadable JSON on {method} {path}"
                ) from exc


def _path(segment: str) -> str:
    """An id as one path segment (Onfleet ids use ``~`` and ``*``; never let one add a ``/``)."""
    return quote(segment, safe="~*")


def event_from_payload(payload: Mapping[str, Any], body: bytes = b"") -> TaskEvent | None:
    """The :class:`TaskEvent` of an Onfleet webhook payload, ``None`` for a trigger we do not
    follow.

    The fields read, per trigger (docs: Webhooks): ``triggerId`` (``triggerName`` when the id is
    missing), ``taskId``, ``workerId``, ``time`` (epoch ms), ``data.task`` and ``data.worker``;
    taskEta adds ``etaSeconds`` (seconds from ``time``), workerDuty ``status`` (1 on duty, 0
    off). The ETA of an event is ``time + etaSeconds`` when given, else the task's own estimate
    (``estimatedArrivalTime``/``eta``/``estimatedCompletionTime``, epoch ms). The driver's
    position is ``data.worker.location``, GeoJSON ``[lng, lat]``, returned as ``(lat, lng)``.

    ``key`` is ``onfleet:<triggerName>:<taskId>:<time>:<workerId>``: a redelivery of the same
    delivery (Onfleet retries for a day) has the same key; a body without ``time`` is keyed by
    its digest instead.
    """
    trigger = payload.get("triggerId")
    if isinstance(trigger, bool) or not isinstance(trigger, int):
        trigger = _TRIGGER_IDS.get(_str(payload.get("triggerName")), -1)
    if trigger not in TRIGGERS:
        return None
    trigger_name, kind = TRIGGERS[trigger]
    data = _dict(payload.get("data"))
    task = _dict(data.get("task"))
    worker = _dict(data.get("worker"))

    task_id = _str(payload.get("taskId")) or _str(task.get("id")) or None
    driver_id = (
        _str(payload.get("workerId"))
        or _str(worker.get("id"))
        or (_task_driver(task) if task else None)
        or None
    )
    raw_time = payload.get("time")
    at = _from_epoch(raw_time)
    if at is None:
        at = dt.datetime.now(dt.UTC)
        digest = hashlib.sha256(body or json.dumps(payload, sort_keys=True).encode())
        stamp = f"sha256-{digest.hexdigest()[:32]}"
    else:
        stamp = str(int(raw_time))
    key = f"onfleet:{trigger_name}:{task_id or ''}:{stamp}:{driver_id or ''}"

    eta = None
    eta_seconds = payload.get("etaSeconds")
    if isinstance(eta_seconds, int | float) and not isinstance(eta_seconds, bool):
        eta = at + dt.timedelta(seconds=float(eta_seconds))
    elif task:
        eta = _task_eta(task)

    position = None
    location = worker.get("location")
    if (
        isinstance(location, list | tuple)
        and len(location) == 2
        and all(isinstance(c, int | float) and not isinstance(c, bool) for c in location)
        and all(math.isfinite(c) for c in location)
    ):
        longitude, latitude = location
        position = (float(latitude), float(longitude))

    details = _dict(task.get("completionDetails"))
    success: bool | None = None
    failure_reason = notes = photo_ref = signature_ref = ""
    if kind == "completed" and details.get("success") is False:
        kind = "failed"
    if kind in ("completed", "failed"):
        success = kind == "completed"
        notes = _str(details.get("notes"))
        photos = details.get("photoUploadIds")
        if isinstance(photos, list) and photos:
            photo_ref = ",".join(str(p) for p in photos if p)
        else:
            photo_ref = _str(details.get("photoUploadId"))
        signature_ref = _str(details.get("signatureUploadId"))
    if kind == "failed":
        reason = _str(details.get("failureReason"))
        reason = "" if reason == "NONE" else reason
        failure_notes = _str(details.get("failureNotes"))
        failure_reason = ": ".join(part for part in (reason, failure_notes) if part)

    on_duty: bool | None = None
    if kind == "driver_duty":
        status = payload.get("status")
        if status in (0, 1) and not isinstance(status, bool):
            on_duty = status == 1
        elif isinstance(worker.get("onDuty"), bool):
            on_duty = worker["onDuty"]

    message = ""
    if trigger == 2 and isinstance(payload.get("distance"), int | float):
        message = f"{payload['distance']:g} m away"

    return TaskEvent(
        key=key,
        kind=kind,
        at=at,
        provider_task_id=None if kind == "driver_duty" else task_id,
        driver_id=driver_id,
        driver_name=_str(worker.get("name")),
        driver_phone=_str(worker.get("phone")),
        on_duty=on_duty,
        eta=eta,
        position=position,
        success=success,
        failure_reason=failure_reason,
        notes=notes,
        photo_ref=photo_ref,
        signature_ref=signature_ref,
        message=message,
        raw=dict(payload),
    )
