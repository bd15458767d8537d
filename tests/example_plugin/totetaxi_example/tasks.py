from __future__ import annotations

import uuid

from pyramid.config import Configurator

from totetaxi_core.plugin_api import Context

from .models import ExampleTaskRun

_failures: dict[str, int] = {}


def record_note(ctx: Context, note_id: str, label: str = "run") -> None:
    ctx.dbsession.add(ExampleTaskRun(note_id=uuid.UUID(note_id), label=label))


def flaky(ctx: Context, note_id: str, fail_times: int) -> None:
    """Fails ``fail_times`` times per note (in this process), then records a run."""
    seen = _failures.get(note_id, 0)
    if seen < fail_times:
        _failures[note_id] = seen + 1
        raise RuntimeError(f"flaky failure {seen + 1} of {fail_times}")
    ctx.dbsession.add(ExampleTaskRun(note_id=uuid.UUID(note_id), label="flaky"))


def includeme(config: Configurator) -> None:
    config.add_task(record_note, name="example.record_note")
    config.add_task(flaky, name="example.flaky", max_retries=3, backoff_seconds=0)
