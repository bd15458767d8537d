"""Reference data served from memory (``Snapshot``): loaded once, re-checked at most once a
period, dropped when the transaction that edits it commits, never storing a load that began
before an edit was committed."""

from __future__ import annotations

from typing import Any

import pytest
import transaction

from totetaxi_core.plugin_api import Snapshot


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Ctx:
    """A context whose session is a marker; counts how often the session is asked for."""

    def __init__(self, tm: Any = None) -> None:
        self.extra: dict[str, Any] = {}
        self.sessions = 0
        self.transaction_manager = tm

    @property
    def dbsession(self) -> str:
        self.sessions += 1
        return "session"


class Store:
    """What the database holds: a value and its version; counts the reads."""

    def __init__(self) -> None:
        self.value, self.version = "v1", 1
        self.loads = self.version_reads = 0

    def load(self, _session: str) -> str:
        self.loads += 1
        return self.value

    def read_version(self, _session: str) -> int:
        self.version_reads += 1
        return self.version


@pytest.fixture
def store() -> Store:
    return Store()


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_served_from_memory_until_the_period_passes(store, clock):
    snapshot = Snapshot(store.load, version=store.read_version, clock=clock)
    ctx = Ctx()
    assert snapshot.get(ctx) == "v1"
    assert (store.loads, store.version_reads, ctx.sessions) == (1, 1, 1)
    store.value, store.version = "v2", 2  # another process edits
    clock.now += 0.99
    assert snapshot.get(ctx) == "v1"  # within the period: no session even made
    assert (store.loads, store.version_reads, ctx.sessions) == (1, 1, 1)
    clock.now += 0.02
    assert snapshot.get(ctx) == "v2"
    assert (store.loads, store.version_reads) == (2, 2)


def test_a_recheck_with_an_unchanged_version_reads_only_the_version(store, clock):
    snapshot = Snapshot(store.load, version=store.read_version, clock=clock)
    snapshot.get(Ctx())
    for _ in range(3):
        clock.now += 1.5
        assert snapshot.get(Ctx()) == "v1"
    assert (store.loads, store.version_reads) == (1, 4)


def test_without_a_version_it_reloads_once_a_period(store, clock):
    snapshot = Snapshot(store.load, recheck_seconds=5, clock=clock)
    snapshot.get(Ctx())
    store.value = "v2"
    clock.now += 4
    assert snapshot.get(Ctx()) == "v1"
    clock.now += 1
    assert snapshot.get(Ctx()) == "v2"
    assert store.loads == 2


@pytest.mark.parametrize("commits", [True, False])
def test_the_editing_transaction_reads_its_own_rows_and_its_end_drops_the_snapshot(
    store, clock, commits
):
    snapshot = Snapshot(store.load, version=store.read_version, clock=clock)
    assert snapshot.get(Ctx()) == "v1"
    tm = transaction.TransactionManager(explicit=True)
    tm.begin()
    editor = Ctx(tm)
    snapshot.changed(editor)
    snapshot.changed(editor)  # once is enough
    store.value = "uncommitted"
    assert snapshot.get(editor) == "uncommitted"  # its own edit, not cached for others
    assert snapshot.get(Ctx()) == "v1"
    if commits:
        tm.commit()
        store.value = "committed"
    else:
        tm.abort()
        store.value = "v1"
    # The same process sees the outcome at once, without waiting for the period.
    assert snapshot.get(Ctx()) == ("committed" if commits else "v1")


def test_a_load_that_an_edit_overtook_is_not_kept(store, clock):
    snapshot = Snapshot(store.load, clock=clock)

    def load_while_an_edit_commits(session: str) -> str:
        value = store.load(session)  # read before the edit committed...
        snapshot.clear()  # ...which commits now (its after-commit hook)
        return value

    snapshot._load = load_while_an_edit_commits
    assert snapshot.get(Ctx()) == "v1"
    snapshot._load = store.load
    store.value = "v2"
    assert snapshot.get(Ctx()) == "v2"  # not the stale v1 for a whole period
