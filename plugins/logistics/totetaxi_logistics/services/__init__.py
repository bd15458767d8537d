"""The logistics domain: planning, dispatching, provider events, rescheduling, reading.

Views, hooks and tasks call these; they take a :class:`~totetaxi_core.plugin_api.Context` and
never do network I/O except in the background tasks of :mod:`.dispatching`.
"""

from __future__ import annotations

from .dispatching import cancel_at_provider, cancel_task, dispatch_task, dispatcher, redispatch
from .events import Outcome, apply_event
from .planning import (
    CANCEL_AT_PROVIDER,
    DISPATCH,
    current_tasks,
    hold_reasons,
    plan_tasks,
    release,
    tasks_of,
)
from .rescheduling import assign, booking_cancelled, booking_moved, fail_task, reschedule
from .timeline import add_update

__all__ = [
    "CANCEL_AT_PROVIDER",
    "DISPATCH",
    "Outcome",
    "add_update",
    "apply_event",
    "assign",
    "booking_cancelled",
    "booking_moved",
    "cancel_at_provider",
    "cancel_task",
    "current_tasks",
    "dispatch_task",
    "dispatcher",
    "fail_task",
    "hold_reasons",
    "plan_tasks",
    "redispatch",
    "release",
    "reschedule",
    "tasks_of",
]
