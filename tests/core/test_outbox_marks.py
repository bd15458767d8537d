"""Broker mode: a request that queued tasks commits once; the messages it published are marked
``sent`` off its thread, several in one statement."""

from __future__ import annotations

import threading
import uuid

import pytest
import redis
import sqlalchemy as sa
from sqlalchemy import select

from totetaxi_core.tasks import OutboxMessage, OutboxStatus
from totetaxi_core.tasks.outbox import sent_marks

pytestmark = pytest.mark.redis


def test_published_messages_are_marked_sent_off_the_requests_thread(make_testapp, redis_url):
    queue = f"tt-test-marks-{uuid.uuid4().hex[:8]}"
    app = make_testapp(
        **{
            "totetaxi.tasks_mode": "broker",
            "totetaxi.broker_url": redis_url,
            "totetaxi.task_queue": queue,
        }
    )
    registry = app.app.registry
    engine = registry["dbengine"]
    commits: list[int] = []

    def on_commit(_conn) -> None:
        commits.append(threading.get_ident())

    sa.event.listen(engine, "commit", on_commit)
    try:
        for text in ("first", "second"):
            app.post_json("/api/v1/example/notes", {"text": text}, status=201)
        by_requests = commits.count(threading.get_ident())
        sent_marks(registry).flush()  # whatever the marking thread has not written yet
    finally:
        sa.event.remove(engine, "commit", on_commit)
        redis.Redis.from_url(redis_url).delete(queue)
    # One commit per request on the request's thread: the mark is not its business any more.
    assert by_requests == 2
    with registry["dbsession_factory"]() as s:
        rows = s.execute(select(OutboxMessage.status, OutboxMessage.sends)).all()
    assert sorted(rows) == [(OutboxStatus.SENT, 1), (OutboxStatus.SENT, 1)]
