"""The ``dispatcher`` slot: what a delivery provider plugin implements.

A provider plugin ``provides=("dispatcher",)`` in its manifest and answers the core's hook
``totetaxi_dispatcher(ctx)`` with an object offering :class:`Dispatcher`. Exactly one provider
is enabled at a time: ``logistics_mock`` (a simulated fleet, development) or
``logistics_onfleet`` (Onfleet's REST API v2, production). Every provider passes the same
contract suite (``tests/plugins/logistics/test_dispatcher_contract.py``).

The logistics plugin speaks to a provider only through these dataclasses: a
:class:`TaskRequest` goes out, :class:`ProviderTask` and :class:`ProviderDriver` come back, and
the provider's webhooks (or the mock fleet's moves) come in as :class:`TaskEvent` values, all
applied by one function (``services.events.apply_event``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

#: Our task's status vocabulary (BUSINESS_RULES.md "Delivery"); providers map theirs onto it.
TaskState = Literal["created", "assigned", "in_progress", "completed", "failed", "cancelled"]

#: What a provider event says happened (Onfleet's trigger names, normalised).
EventKind = Literal[
    "assigned",  # a driver took the task (again, or another driver: a reassignment)
    "unassigned",  # the task went back to the pool
    "started",  # the driver set off for it
    "eta",  # a new estimate of arrival, usually with the driver's position
    "arrived",  # the driver is at the address
    "completed",  # done, with proof of delivery
    "failed",  # could not be done, with the reason
    "driver_duty",  # a driver went on or off duty (no task)
]


class DispatcherError(Exception):
    """The provider did not take the request.

    ``permanent`` says that trying again cannot help (refused input, bad credentials), so the
    caller gives up at once instead of retrying with backoff. ``retry_after`` is the provider's
    own advice in seconds (a rate limit), when it gave one.
    """

    def __init__(
        self, message: str, *, permanent: bool = False, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after


class WebhookRefused(Exception):
    """A webhook delivery that is not the provider's: bad or missing signature, unreadable."""


@dataclass(frozen=True)
class Place:
    """An address as the provider needs it (a snapshot: the booking's may change later)."""

    street: str
    city: str
    state: str
    zip_code: str
    unit: str = ""
    instructions: str = ""
    #: (latitude, longitude) when known; a provider geocodes the rest itself.
    location: tuple[float, float] | None = None

    def one_line(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        return f"{self.street}{unit}, {self.city}, {self.state} {self.zip_code}"


@dataclass(frozen=True)
class TaskRequest:
    """A delivery task to create at the provider.

    ``reference`` is our task's id: the provider stores it (Onfleet: in the task's metadata) so
    that :meth:`Dispatcher.find_task` can find a task whose creation we never heard back from.
    """

    reference: str
    kind: Literal["pickup", "dropoff"]
    booking_number: str
    place: Place
    recipient_name: str
    recipient_phone: str
    complete_after: dt.datetime
    complete_before: dt.datetime
    notes: str = ""
    #: The provider's id of the pickup task a drop-off depends on, when there is one.
    depends_on: str | None = None
    #: The provider's id of the driver to assign at creation (``None``: leave it unassigned).
    driver_id: str | None = None


@dataclass(frozen=True)
class ProviderTask:
    """A task as the provider holds it."""

    provider_id: str
    reference: str
    state: TaskState
    tracking_url: str = ""
    driver_id: str | None = None
    eta: dt.datetime | None = None


@dataclass(frozen=True)
class ProviderDriver:
    """A driver as the provider holds them (synced into ``Driver`` rows)."""

    provider_id: str
    name: str
    phone: str
    vehicle: str = ""
    active: bool = True
    on_duty: bool = False


@dataclass(frozen=True)
class TaskEvent:
    """Something the provider says happened to one of its tasks (or drivers).

    ``key`` identifies the event itself: a replay of the same delivery has the same key and is
    applied once. ``at`` is when it happened at the provider (events can arrive out of order).
    """

    key: str
    kind: EventKind
    at: dt.datetime
    provider_task_id: str | None = None
    driver_id: str | None = None
    driver_name: str = ""
    driver_phone: str = ""
    on_duty: bool | None = None
    eta: dt.datetime | None = None
    #: (latitude, longitude) of the driver when the event was sent.
    position: tuple[float, float] | None = None
    success: bool | None = None
    failure_reason: str = ""
    notes: str = ""
    photo_ref: str = ""
    signature_ref: str = ""
    message: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict)


@runtime_checkable
class Dispatcher(Protocol):
    """The interface of the ``dispatcher`` slot. Never retry inside a call: the calling task's
    backoff does that. Raise :class:`DispatcherError` when the provider refuses or cannot be
    reached."""

    #: Short provider name, stored on each task (``mock``, ``onfleet``).
    name: str

    def create_task(self, request: TaskRequest) -> ProviderTask:
        """Create the task; return it as the provider holds it."""
        ...

    def find_task(self, reference: str, created_after: dt.datetime) -> ProviderTask | None:
        """The task created for our ``reference`` since ``created_after``, or ``None``.

        Called before :meth:`create_task` whenever a send may have happened already (a retried
        send), so that a lost answer never makes a second task.
        """
        ...

    def get_task(self, provider_id: str) -> ProviderTask | None:
        """The task as the provider holds it now; ``None`` when it does not know it."""
        ...

    def cancel_task(self, provider_id: str) -> None:
        """Cancel (delete) the task at the provider. Cancelling one already gone is no error."""
        ...

    def assign(self, provider_id: str, driver_id: str | None) -> ProviderTask:
        """Assign the task to the provider's driver ``driver_id`` (``None``: unassign)."""
        ...

    def list_drivers(self) -> list[ProviderDriver]:
        """Every driver the provider knows."""
        ...

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> None:
        """Raise :class:`WebhookRefused` unless ``body`` was signed by the provider."""
        ...

    def parse_webhook(self, body: bytes) -> list[TaskEvent]:
        """The events of a verified webhook body (raise :class:`WebhookRefused` when it cannot
        be read); an event of a kind we do not follow is left out."""
        ...
