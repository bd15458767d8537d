"""The example plugin's own tests, written as a plugin in another repository would write them.

Nothing here comes from this repository's ``tests/`` folder: the fixtures come from the test kit
(the pytest plugin ``totetaxi`` that ``totetaxi-core[test]`` installs), the helpers from
:mod:`totetaxi_core.testing`, and the plugin's tables are in the test databases because the
distribution is installed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select
from totetaxi_example.models import ExampleNote
from webtest import TestApp

from totetaxi_core.testing import (
    SlotContract,
    console_sign_in,
    in_transaction,
    migrated_plugins,
    race,
)
from totetaxi_core.testing.permissions import permission_matrix


def test_the_plugin_is_in_the_test_databases(testapp):
    assert "example" in migrated_plugins()
    assert testapp.get("/api/v1/example/hello").json


def test_a_note_is_written_and_read_back(testapp):
    def notes() -> int:
        return in_transaction(
            testapp.app.registry,
            lambda ctx: ctx.dbsession.scalar(select(func.count()).select_from(ExampleNote)),
        )

    seeded = notes()  # the plugin's seed data
    testapp.post_json("/api/v1/example/notes", {"text": "from the kit"}, status=201)
    assert notes() == seeded + 1
    texts = [n["text"] for n in testapp.get("/api/v1/example/notes").json["items"]]
    assert "from the kit" in texts


def test_the_console_shows_the_plugins_entry(testapp):
    console_sign_in(testapp, "viewer")
    assert "Notes" in testapp.get("/console/").text


@pytest.mark.postgresql
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)  # SERIALIZABLE is the point
def test_concurrent_increments_are_retried_not_lost(make_testapp):
    app = make_testapp(**{"retry.attempts": "30", "example.counter_delay_ms": "20"})
    TestApp(app.app).post("/api/v1/example/counters/hits")  # the row exists before the race

    def increment() -> dict[str, Any]:
        return TestApp(app.app).post("/api/v1/example/counters/hits").json

    answers = race(*[increment] * 6)
    assert sorted(a["value"] for a in answers) == [2, 3, 4, 5, 6, 7]


def test_its_endpoints_have_permission_rows():
    rows = permission_matrix(["example"])
    assert ("GET", "/api/v1/example/hello") in rows
    assert ("POST", "/api/v1/example/counters/{name}") in rows


class Doubler:
    """A stand-in provider of ``example_slot`` (the slot only promises ``double``)."""

    name = "doubler"

    def double(self, value: int) -> int:
        return value * 2


class TestExampleSlotContract(SlotContract):
    """A slot contract as a plugin author writes one: the tests, then the providers."""

    slot = "example_slot"
    providers = ("doubler",)

    def provide(self, name: str, request: pytest.FixtureRequest) -> Iterator[Any]:
        yield Doubler()

    def test_it_has_a_name(self, harness: Any) -> None:
        assert harness.name

    def test_double(self, harness: Any) -> None:
        assert harness.double(21) == 42
