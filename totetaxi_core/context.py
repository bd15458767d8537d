"""The unit of work handed to hooks, services and tasks.

A request and a background task both build a :class:`Context`, so domain code and hook
implementations are written once and run the same in either.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import transaction
    from pyramid.registry import Registry
    from pyramid.request import Request
    from sqlalchemy.orm import Session

    from .hooks import HookBus


@dataclass
class Context:
    """Everything a piece of domain code needs to act inside one transaction.

    - ``dbsession``: the session of the current transaction.
    - ``settings``: the validated settings.
    - ``hooks``: the :class:`~totetaxi_core.hooks.HookBus`.
    - ``actor``: who acts (a staff user, a customer, or ``None`` for the system).
    - ``request``: the request, when there is one.
    """

    registry: Registry
    dbsession: Session
    transaction_manager: transaction.TransactionManager
    actor: Any = None
    request: Request | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def settings(self) -> dict[str, Any]:
        return self.registry.settings

    @property
    def hooks(self) -> HookBus:
        return self.registry.hooks

    def now(self) -> dt.datetime:
        """The current time, aware UTC, from the app's clock (``registry.clock``).

        Domain code asks here instead of calling ``datetime.now`` so that tests can move time.
        """
        clock = getattr(self.registry, "clock", None)
        return clock() if clock is not None else dt.datetime.now(dt.UTC)

    def call_hook(self, name: str, **kwargs: Any) -> Any:
        """Call hook ``name`` with this context as ``ctx``."""
        return self.hooks.call(name, ctx=self, **kwargs)

    def enqueue(self, task: str, *args: Any, **kwargs: Any) -> uuid.UUID:
        """Queue background task ``task`` to run after this transaction commits.

        Writes an outbox row in the current transaction: a rollback discards it, a commit hands
        it to the broker (or runs it in-process in eager mode), and a periodic sweep re-sends
        what the broker did not take. Arguments must be JSON-serialisable. Returns the outbox id,
        which is also the Celery task id.
        """
        from .tasks.outbox import enqueue

        return enqueue(self, task, args, kwargs)


class RequestContext(Context):
    """A request's :class:`Context` (``request.ctx``), built without touching the database.

    Its session (``request.dbsession``) is made when domain code first uses it, and its actor
    is the request's identity when first asked: a request that needs neither (a quote served
    from the catalog in memory) opens no session and looks nobody up.
    """

    _UNSET: Any = object()

    def __init__(self, request: Request) -> None:  # no super().__init__: the fields are lazy
        self.registry = request.registry
        self.request = request
        self.extra = {"request_id": request.request_id}
        self._actor = self._UNSET

    @property  # type: ignore[override]
    def dbsession(self) -> Session:
        return self.request.dbsession

    @property  # type: ignore[override]
    def transaction_manager(self) -> transaction.TransactionManager:
        return self.request.tm

    @property  # type: ignore[override]
    def actor(self) -> Any:
        if self._actor is self._UNSET:
            identity = self.request.identity
            self._actor = identity.principal if identity is not None else None
        return self._actor

    @actor.setter
    def actor(self, value: Any) -> None:
        self._actor = value

    def __repr__(self) -> str:  # the dataclass's would make the session to show it
        return f"RequestContext(request_id={self.extra.get('request_id')!r})"
