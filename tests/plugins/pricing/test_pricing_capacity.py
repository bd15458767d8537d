"""Van capacity: reserve and release (services and hooks), the validate hook, and on PostgreSQL
20 concurrent reservations for a day with room for 4.
"""

from __future__ import annotations

import datetime as dt
import threading
from types import SimpleNamespace
from typing import Any

import pytest
from totetaxi_pricing import services
from totetaxi_pricing.models import CapacityDay

from totetaxi_core import make_app
from totetaxi_core.errors import CapacityExhausted
from totetaxi_core.platform import prepare
from totetaxi_core.plugin_api import BUSINESS_TZ
from totetaxi_core.testing import base_settings, in_transaction, race

# Every test here depends on the database: run on SQLite and PostgreSQL.
pytestmark = pytest.mark.both_databases

NEW_YORK = BUSINESS_TZ
NOW = dt.datetime(2026, 11, 23, 10, tzinfo=NEW_YORK).astimezone(dt.UTC)  # Monday morning
DAY = dt.date(2026, 12, 1)  # a Tuesday, no surcharge, well inside the horizon
OTHER_DAY = dt.date(2026, 12, 2)


@pytest.fixture
def registry(make_testapp):
    app = make_testapp(**{"totetaxi.plugins": "pricing"})
    app.app.registry.clock = lambda: NOW
    return app.app.registry


def run(registry: Any, work: Any) -> Any:
    return in_transaction(registry, work)


def stored(registry: Any, day: dt.date = DAY) -> tuple[int, int] | None:
    """``(booked, specialty_booked)`` of ``day`` as committed, or ``None`` without a row."""

    def read(ctx: Any) -> tuple[int, int] | None:
        row = ctx.dbsession.get(CapacityDay, day)
        return None if row is None else (row.booked, row.specialty_booked)

    return run(registry, read)


def reserve(registry: Any, day: dt.date = DAY, specialty: bool = False) -> None:
    run(registry, lambda ctx: services.reserve(ctx, day, specialty))


def release(registry: Any, day: dt.date = DAY, specialty: bool = False) -> None:
    run(registry, lambda ctx: services.release(ctx, day, specialty))


# --- services ------------------------------------------------------------------------------------


def test_four_vans_then_the_day_is_full(registry):
    for n in range(1, 5):
        reserve(registry)
        assert stored(registry) == (n, 0)
    with pytest.raises(CapacityExhausted) as caught:
        reserve(registry)
    assert caught.value.field == "date"
    assert DAY.isoformat() in caught.value.description
    assert stored(registry) == (4, 0)
    reserve(registry, OTHER_DAY)  # another day is untouched
    assert stored(registry, OTHER_DAY) == (1, 0)


def test_a_refused_reservation_changes_nothing_in_its_transaction(registry):
    def five(ctx: Any) -> list[str]:
        outcomes = []
        for _ in range(5):
            try:
                services.reserve(ctx, DAY)
                outcomes.append("ok")
            except CapacityExhausted:
                outcomes.append("full")
        return outcomes

    assert run(registry, five) == ["ok", "ok", "ok", "ok", "full"]
    assert stored(registry) == (4, 0)


def test_release_gives_one_back(registry):
    for _ in range(4):
        reserve(registry)
    release(registry)
    assert stored(registry) == (3, 0)
    reserve(registry)
    assert stored(registry) == (4, 0)
    with pytest.raises(CapacityExhausted):
        reserve(registry)


def test_release_never_goes_below_zero(registry):
    release(registry)  # nothing reserved, no row yet
    assert stored(registry) in (None, (0, 0))
    reserve(registry)
    release(registry)
    release(registry)
    release(registry, specialty=True)
    assert stored(registry) == (0, 0)
    reserve(registry, specialty=True)
    release(registry, specialty=True)
    release(registry, specialty=True)
    assert stored(registry) == (0, 0)
    # Still four vans after all that.
    for _ in range(4):
        reserve(registry)
    with pytest.raises(CapacityExhausted):
        reserve(registry)


def test_overrides_set_the_days_capacity(registry):
    run(registry, lambda ctx: services.set_capacity(ctx, DAY, 2, None))
    reserve(registry)
    reserve(registry)
    with pytest.raises(CapacityExhausted):
        reserve(registry)
    run(registry, lambda ctx: services.set_capacity(ctx, DAY, 3, None))
    reserve(registry)
    assert stored(registry) == (3, 0)


def test_a_blackout_takes_no_booking(registry):
    run(registry, lambda ctx: services.set_capacity(ctx, DAY, 0, None, "Closed"))
    with pytest.raises(CapacityExhausted):
        reserve(registry)
    assert stored(registry) == (0, 0)


def test_the_default_capacity_is_data(registry):
    run(registry, lambda ctx: services.edit_policy(ctx, van_capacity=1))
    reserve(registry)
    with pytest.raises(CapacityExhausted):
        reserve(registry)


def test_specialty_vans_are_counted_apart(registry):
    reserve(registry, specialty=True)
    reserve(registry, specialty=True)
    assert stored(registry) == (2, 2)
    with pytest.raises(CapacityExhausted) as caught:
        reserve(registry, specialty=True)
    assert "specialty" in caught.value.description
    assert stored(registry) == (2, 2)  # the refused one took no ordinary van either
    reserve(registry)  # an ordinary booking still fits
    reserve(registry)
    assert stored(registry) == (4, 2)
    with pytest.raises(CapacityExhausted):
        reserve(registry)
    release(registry, specialty=True)
    assert stored(registry) == (3, 1)
    reserve(registry, specialty=True)
    assert stored(registry) == (4, 2)


def test_a_specialty_booking_needs_an_ordinary_van_too(registry):
    for _ in range(4):
        reserve(registry)
    with pytest.raises(CapacityExhausted):
        reserve(registry, specialty=True)
    assert stored(registry) == (4, 0)


def test_a_specialty_override(registry):
    run(registry, lambda ctx: services.set_capacity(ctx, DAY, None, 1))
    reserve(registry, specialty=True)
    with pytest.raises(CapacityExhausted):
        reserve(registry, specialty=True)
    assert stored(registry) == (1, 1)


# --- hooks ---------------------------------------------------------------------------------------


def booking(day: dt.date = DAY, specialty_items: Any = (), **extra: Any) -> SimpleNamespace:
    return SimpleNamespace(pickup_date=day, specialty_items=list(specialty_items), **extra)


def hook(registry: Any, name: str, **kwargs: Any) -> Any:
    return run(registry, lambda ctx: ctx.call_hook(name, **kwargs))


def test_the_pricing_plugin_implements_the_capacity_hooks(registry):
    for name in (
        "totetaxi_reserve_capacity",
        "totetaxi_release_capacity",
        "totetaxi_validate_booking",
        "totetaxi_availability",
        "totetaxi_quote",
    ):
        assert any(
            impl.startswith("totetaxi_pricing") for impl in registry.hooks.implementers(name)
        ), name


def test_reserve_and_release_hooks(registry):
    for _ in range(4):
        hook(registry, "totetaxi_reserve_capacity", booking=booking())
    with pytest.raises(CapacityExhausted) as caught:
        hook(registry, "totetaxi_reserve_capacity", booking=booking())
    assert caught.value.field == "date"
    hook(registry, "totetaxi_release_capacity", booking=booking())
    assert stored(registry) == (3, 0)
    hook(registry, "totetaxi_reserve_capacity", booking=booking())
    assert stored(registry) == (4, 0)


def test_hooks_take_a_specialty_van_for_specialty_items(registry):
    crib = [{"code": "crib", "qty": 1}]
    hook(registry, "totetaxi_reserve_capacity", booking=booking(specialty_items=crib))
    hook(
        registry,
        "totetaxi_reserve_capacity",
        booking=booking(specialty_items=[], service_type="specialty"),
    )
    assert stored(registry) == (2, 2)
    with pytest.raises(CapacityExhausted):
        hook(registry, "totetaxi_reserve_capacity", booking=booking(specialty_items=crib))
    hook(registry, "totetaxi_reserve_capacity", booking=booking(service_type="mini_move"))
    assert stored(registry) == (3, 2)
    hook(registry, "totetaxi_release_capacity", booking=booking(specialty_items=crib))
    assert stored(registry) == (2, 1)


def problems(registry: Any, draft: dict[str, Any]) -> list[dict[str, str]]:
    answers = hook(registry, "totetaxi_validate_booking", draft=draft, quote=None, customer=None)
    return [problem for answer in answers or [] for problem in answer or []]


def test_validate_hook_reports_a_full_day(registry):
    draft = {"service_type": "mini_move", "package": "petite", "date": DAY}
    assert problems(registry, draft) == []
    for _ in range(3):
        reserve(registry)
    assert problems(registry, draft) == []  # one van left
    reserve(registry)
    [problem] = problems(registry, draft)
    assert problem["name"] == "date"
    assert DAY.isoformat() in problem["description"]
    release(registry)
    assert problems(registry, draft) == []


def test_validate_hook_reports_a_blackout(registry):
    run(registry, lambda ctx: services.set_capacity(ctx, DAY, 0, None))
    [problem] = problems(
        registry, {"service_type": "standard_delivery", "item_count": 2, "date": DAY}
    )
    assert problem["name"] == "date"


def test_validate_hook_reports_no_specialty_van(registry):
    reserve(registry, specialty=True)
    reserve(registry, specialty=True)
    ordinary = {"service_type": "mini_move", "package": "petite", "date": DAY}
    assert problems(registry, ordinary) == []
    for draft in (
        {**ordinary, "specialty_items": [{"code": "crib", "qty": 1}]},
        {
            "service_type": "specialty",
            "specialty_items": [{"code": "peloton", "qty": 1}],
            "date": DAY,
        },
    ):
        [problem] = problems(registry, draft)
        assert problem["name"] == "date" and "specialty" in problem["description"]


@pytest.mark.parametrize(
    "date", [dt.date(2026, 11, 22), dt.date(2027, 5, 23)], ids=["past", "beyond-horizon"]
)
def test_validate_hook_reports_dates_out_of_range(registry, date):
    [problem] = problems(registry, {"service_type": "mini_move", "package": "petite", "date": date})
    assert problem["name"] == "date"


def test_validate_hook_never_writes(registry):
    problems(registry, {"service_type": "mini_move", "package": "petite", "date": DAY})
    assert stored(registry) is None


# --- concurrency (PostgreSQL) --------------------------------------------------------------------

RACERS = 20


@pytest.fixture
def pg_registry(pg_backend):
    """An app of its own on a fresh PostgreSQL database, with a pool for every racer."""
    url = pg_backend.new_url()
    settings = base_settings(
        url, **{"totetaxi.plugins": "pricing", "sqlalchemy.pool_size": RACERS + 5}
    )
    app = make_app(prepare(settings, environ={}))
    app.registry.clock = lambda: NOW
    yield app.registry
    app.registry["dbengine"].dispose()
    pg_backend.drop(url)


def reserve_at_once(registry: Any, specialty: bool = False) -> dict[str, int]:
    """``RACERS`` transactions reserve ``DAY`` at the same moment; count how each ends."""
    # The kit's race() starts the racers together; this second barrier lines them up again
    # inside their transactions, once each holds a connection, so none has finished before the
    # last one begins.
    inside = threading.Barrier(RACERS, timeout=60)

    def work(ctx: Any) -> None:
        ctx.dbsession.connection()
        inside.wait()
        services.reserve(ctx, DAY, specialty)

    def racer() -> str:
        try:
            run(registry, work)
        except CapacityExhausted:
            return "full"
        return "reserved"

    outcomes = race(*[racer] * RACERS)
    return {kind: outcomes.count(kind) for kind in ("reserved", "full")}


@pytest.mark.postgresql
def test_twenty_concurrent_reservations_for_four_vans(pg_registry):
    assert stored(pg_registry) is None  # the row is created by the racers themselves
    assert reserve_at_once(pg_registry) == {"reserved": 4, "full": 16}
    assert stored(pg_registry) == (4, 0)


@pytest.mark.postgresql
def test_twenty_concurrent_reservations_with_an_override_row(pg_registry):
    run(pg_registry, lambda ctx: services.set_capacity(ctx, DAY, 4, None))
    reserve(pg_registry)
    assert reserve_at_once(pg_registry) == {"reserved": 3, "full": 17}
    assert stored(pg_registry) == (4, 0)


@pytest.mark.postgresql
def test_twenty_concurrent_specialty_reservations_for_two_specialty_vans(pg_registry):
    assert reserve_at_once(pg_registry, specialty=True) == {"reserved": 2, "full": 18}
    assert stored(pg_registry) == (2, 2)
