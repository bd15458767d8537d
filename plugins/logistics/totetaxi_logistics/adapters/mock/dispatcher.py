"""The mock fleet as a dispatcher: Onfleet's behaviour, kept in this database.

Its tasks live in ``logistics_mock_tasks`` (written in the caller's transaction), its drivers
are the ``mock`` rows of ``logistics_drivers`` (managed in the console). Webhooks it would send
are signed with HMAC-SHA256 under a secret derived from ``totetaxi.secret``; the simulated fleet
(:mod:`.fleet`) applies its events directly through the same function the webhook view calls.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from totetaxi_core.plugin_api import Context, utcnow

from ...interfaces import (
    DispatcherError,
    ProviderDriver,
    ProviderTask,
    TaskEvent,
    TaskRequest,
    WebhookRefused,
)
from ...models import Driver
from .models import MockFleetTask

NAME = "mock"
SIGNATURE_HEADER = "X-Mock-Fleet-Signature"
STATES = {
    "created": "created",
    "assigned": "assigned",
    "started": "in_progress",
    "completed": "completed",
    "failed": "failed",
}


def webhook_secret(settings: Mapping[str, Any]) -> bytes:
    """Stable per deployment, so that web processes and workers agree."""
    base = str(settings.get("totetaxi.secret") or "")
    return hmac.new(base.encode(), b"logistics_mock.webhook", hashlib.sha256).digest()


def sign(secret: bytes, body: bytes) -> str:
    return hmac.new(secret, body, hashlib.sha256).hexdigest()


class MockDispatcher:
    """The ``dispatcher`` slot over the simulated fleet (one per unit of work)."""

    name = NAME

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.secret = webhook_secret(ctx.settings)

    @property
    def _db(self) -> Any:
        return self.ctx.dbsession

    def _task(self, row: MockFleetTask) -> ProviderTask:
        return ProviderTask(
            provider_id=row.provider_id,
            reference=row.reference,
            state=STATES.get(row.state, "in_progress"),  # type: ignore[arg-type]
            tracking_url="",
            driver_id=row.driver_id,
        )

    def create_task(self, request: TaskRequest) -> ProviderTask:
        if not request.place.street or not request.place.zip_code:
            raise DispatcherError("the destination has no street or ZIP code", permanent=True)
        row = MockFleetTask(
            provider_id=f"mock_{uuid.uuid4().hex[:24]}",
            reference=request.reference,
            state="assigned" if request.driver_id else "created",
            steps=0,
            driver_id=request.driver_id,
            created_at=utcnow(),  # the provider's clock is the real one, as Onfleet's is
            request={
                "kind": request.kind,
                "booking_number": request.booking_number,
                "place": {
                    "street": request.place.street,
                    "city": request.place.city,
                    "zip_code": request.place.zip_code,
                },
                "complete_after": request.complete_after.isoformat(),
                "complete_before": request.complete_before.isoformat(),
            },
        )
        self._db.add(row)
        self._db.flush()
        return self._task(row)

    def find_task(self, reference: str, created_after: dt.datetime) -> ProviderTask | None:
        row = self._db.scalars(
            select(MockFleetTask).where(
                MockFleetTask.reference == reference,
                MockFleetTask.created_at >= created_after,
                MockFleetTask.state != "cancelled",
            )
        ).first()
        return self._task(row) if row is not None else None

    def get_task(self, provider_id: str) -> ProviderTask | None:
        row = self._db.get(MockFleetTask, provider_id)
        return self._task(row) if row is not None and row.state != "cancelled" else None

    def cancel_task(self, provider_id: str) -> None:
        row = self._db.get(MockFleetTask, provider_id)
        if row is not None:
            row.state = "cancelled"

    def assign(self, provider_id: str, driver_id: str | None) -> ProviderTask:
        row = self._db.get(MockFleetTask, provider_id)
        if row is None or row.state == "cancelled":
            raise DispatcherError(f"no task {provider_id}", permanent=True)
        if row.state in ("completed", "failed"):
            raise DispatcherError(f"task {provider_id} is {row.state}", permanent=True)
        if driver_id is not None and self._driver(driver_id) is None:
            raise DispatcherError(f"no driver {driver_id}", permanent=True)
        row.driver_id = driver_id
        if row.state in ("created", "assigned"):
            row.state = "assigned" if driver_id else "created"
        return self._task(row)

    def _driver(self, provider_id: str) -> Driver | None:
        return self._db.scalars(
            select(Driver).where(Driver.provider == NAME, Driver.provider_id == provider_id)
        ).first()

    def list_drivers(self) -> list[ProviderDriver]:
        drivers = self._db.scalars(
            select(Driver).where(Driver.provider == NAME).order_by(Driver.name)
        )
        return [
            ProviderDriver(
                provider_id=d.provider_id,
                name=d.name,
                phone=d.phone,
                vehicle=d.vehicle,
                active=d.active,
                on_duty=d.on_duty,
            )
            for d in drivers
        ]

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> None:
        given = next((v for k, v in headers.items() if k.lower() == SIGNATURE_HEADER.lower()), "")
        if not given:
            raise WebhookRefused(f"{SIGNATURE_HEADER} is missing.")
        # Bytes on both sides: compare_digest refuses a non-ASCII str (a 500, not a 401).
        if not hmac.compare_digest(given.encode(), sign(self.secret, body).encode()):
            raise WebhookRefused(f"{SIGNATURE_HEADER} does not match the body.")

    def signed_headers(self, body: bytes) -> dict[str, str]:
        """The headers that make :meth:`verify_webhook` accept ``body``."""
        return {SIGNATURE_HEADER: sign(self.secret, body)}

    def signed(self, events: list[TaskEvent]) -> tuple[bytes, dict[str, str]]:
        """A webhook body carrying ``events`` and its headers, as the fleet would send it."""
        body = json.dumps({"events": [event_json(event) for event in events]}).encode()
        return body, {SIGNATURE_HEADER: sign(self.secret, body)}

    def parse_webhook(self, body: bytes) -> list[TaskEvent]:
        try:
            data = json.loads(body)
            return [event_from_json(item) for item in data["events"]]
        except (ValueError, KeyError, TypeError) as exc:
            raise WebhookRefused(f"The body is not a mock fleet webhook: {exc}") from None


def event_json(event: TaskEvent) -> dict[str, Any]:
    data = {k: v for k, v in event.__dict__.items() if v not in (None, "", {})}
    for name in ("at", "eta"):
        if isinstance(data.get(name), dt.datetime):
            data[name] = data[name].isoformat()
    if "position" in data:
        data["position"] = list(data["position"])
    data.pop("raw", None)
    return data


def event_from_json(item: Mapping[str, Any]) -> TaskEvent:
    fields = dict(item)
    fields["at"] = _moment(fields["at"])
    if fields.get("eta"):
        fields["eta"] = _moment(fields["eta"])
    if fields.get("position"):
        lat, lng = fields["position"]
        fields["position"] = (float(lat), float(lng))
    known = set(TaskEvent.__dataclass_fields__)
    chosen = {k: v for k, v in fields.items() if k in known and k != "raw"}
    return TaskEvent(**chosen, raw=dict(item))


def _moment(value: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError("timestamps must carry their offset")
    return moment.astimezone(dt.UTC)
