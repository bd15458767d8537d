"""Invariants of ``quoting.price`` (pure), checked with hypothesis on random valid drafts.

One catalog is the seeded one, read from a migrated database (SQLite only: the function under test
never touches the database); the other is random figures built by hand, because admins may edit
every price, limit and percentage. ``now`` is fixed (Monday 2026-11-23 in New York, before and
after the same-day cut-off).
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from totetaxi_pricing.catalog import Catalog, Package, Peak, Specialty, Surcharge, read_catalog
from totetaxi_pricing.quoting import matching_surcharges, percent_of, price

from totetaxi_core.errors import InvalidDraft
from totetaxi_core.plugin_api import BUSINESS_TZ
from totetaxi_core.testing import in_transaction

NEW_YORK = BUSINESS_TZ
MORNING = dt.datetime(2026, 11, 23, 10, tzinfo=NEW_YORK).astimezone(dt.UTC)
AFTERNOON = dt.datetime(2026, 11, 23, 14, tzinfo=NEW_YORK).astimezone(dt.UTC)
TODAY = dt.date(2026, 11, 23)

PROPERTY_SETTINGS = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)

# The function is pure: tests that read the seeded catalog run on one backend only.
ONE_BACKEND = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


@pytest.fixture
def seeded(make_testapp) -> Catalog:
    """The catalog exactly as a fresh install seeds it."""
    app = make_testapp(**{"totetaxi.plugins": "pricing"})
    return in_transaction(app.app.registry, lambda ctx: read_catalog(ctx.dbsession))


# --- strategies ----------------------------------------------------------------------------------


@st.composite
def drafts(draw: Any, catalog: Catalog, now: dt.datetime, same_day: bool = False) -> dict[str, Any]:
    """A draft as ``QuoteBody`` would hand it over, valid for ``catalog`` at ``now``.

    ``same_day``: always a same-day standard delivery (``now`` must be before the cut-off).
    """
    policy = catalog.policy
    today = now.astimezone(NEW_YORK).date()
    same_day_open = now.astimezone(NEW_YORK).hour < policy["same_day_cutoff_hour"]
    if same_day:
        assert same_day_open
        service = "standard_delivery"
    else:
        service = draw(st.sampled_from(["mini_move", "standard_delivery", "specialty"]))
    # Today and the last bookable day are drawn often, not by luck.
    horizon = policy["max_days_ahead"]
    offset = 0 if same_day else draw(st.sampled_from([0, horizon]) | st.integers(0, horizon))
    day = today + dt.timedelta(days=offset)
    draft: dict[str, Any] = {
        "service_type": service,
        "package": None,
        "item_count": None,
        "date": day,
        "same_day": False,
        "coi_handling": draw(st.booleans()),
    }
    if service == "mini_move":
        package = draw(st.sampled_from(catalog.packages))
        draft["package"] = package.code
        draft["item_count"] = draw(st.none() | st.integers(1, package.max_items))
    elif service == "standard_delivery":
        draft["item_count"] = draw(st.integers(1, 500))
        if day == today and same_day_open:
            draft["same_day"] = same_day or draw(st.booleans())
    codes = draw(
        st.lists(
            st.sampled_from(sorted(catalog.specialty)),
            unique=True,
            min_size=1 if service == "specialty" else 0,
            max_size=len(catalog.specialty),
        )
    )
    draft["specialty_items"] = [{"code": code, "qty": draw(st.integers(1, 20))} for code in codes]
    return draft


@st.composite
def catalogs(draw: Any, min_cutoff_hour: int = 0) -> Catalog:
    """Any figures an admin could enter (prices, limits, percentages, peaks)."""
    limits = sorted(draw(st.lists(st.integers(1, 200), min_size=1, max_size=4, unique=True)))
    packages = tuple(
        Package(f"p{i}", f"Package {i}", draw(st.integers(0, 1_000_000)), limit)
        for i, limit in enumerate(limits)
    )
    specialty = {
        f"s{i}": Specialty(f"s{i}", f"Item {i}", draw(st.integers(0, 200_000)))
        for i in range(draw(st.integers(1, 5)))
    }
    surcharges = {
        code: Surcharge(code, code.title(), draw(st.integers(0, 10000)))
        for code in ("weekend", "holiday", "peak")
        if draw(st.booleans())
    }
    peaks = []
    for n in range(draw(st.integers(0, 3))):
        start = TODAY + dt.timedelta(days=draw(st.integers(0, 200)))
        peaks.append(Peak(f"Peak {n}", start, start + dt.timedelta(days=draw(st.integers(0, 30)))))
    policy = {
        "per_item_cents": draw(st.integers(0, 50_000)),
        "minimum_cents": draw(st.integers(0, 100_000)),
        "booking_minimum_cents": draw(st.integers(0, 100_000)),
        "same_day_flat_cents": draw(st.integers(0, 100_000)),
        "same_day_included_items": draw(st.integers(0, 10)),
        "same_day_cutoff_hour": draw(st.integers(min_cutoff_hour, 24)),
        "coi_fee_cents": draw(st.integers(0, 20_000)),
        "high_value_cents": draw(st.integers(0, 1_000_000)),
        "van_capacity": 4,
        "specialty_capacity": 2,
        "max_days_ahead": draw(st.integers(0, 365)),
    }
    return Catalog(
        version=draw(st.integers(1, 1000)),
        packages=packages,
        specialty=specialty,
        surcharges=surcharges,
        peaks=tuple(sorted(peaks, key=lambda p: p.start)),
        policy=policy,
    )


# --- the invariants ------------------------------------------------------------------------------


def service_minimum(catalog: Catalog, draft: dict[str, Any]) -> int:
    """The least a booking of this service may cost (BUSINESS_RULES "minimum" and "minimum
    charge": every booking, of any service type)."""
    least = catalog.policy["booking_minimum_cents"]
    if draft["service_type"] == "standard_delivery":
        return max(least, catalog.policy["minimum_cents"])
    if draft["service_type"] == "mini_move":
        return max(least, catalog.package(draft["package"]).price_cents)
    return least


def check_invariants(catalog: Catalog, draft: dict[str, Any], now: dt.datetime) -> None:
    original = copy.deepcopy(draft)
    quote = price(catalog, draft, now)
    assert draft == original, "price() must not change its input"

    lines, surcharges, fees = quote["lines"], quote["surcharges"], quote["fees"]
    assert lines, "every booking has at least one priced line"
    assert quote["subtotal_cents"] == sum(line["amount_cents"] for line in lines)
    assert quote["total_cents"] == (
        quote["subtotal_cents"]
        + sum(s["amount_cents"] for s in surcharges)
        + sum(f["amount_cents"] for f in fees)
    )
    assert quote["total_cents"] >= service_minimum(catalog, draft)
    # The minimum charge is a priced line: the subtotal (before surcharges and fees) reaches it,
    # and its line tops up exactly what the other priced lines miss.
    assert quote["subtotal_cents"] >= catalog.policy["booking_minimum_cents"]
    topped = [line for line in lines if line["code"] == "minimum_charge"]
    others = sum(line["amount_cents"] for line in lines if line["code"] != "minimum_charge")
    if others < catalog.policy["booking_minimum_cents"]:
        assert [line["amount_cents"] for line in topped] == [
            catalog.policy["booking_minimum_cents"] - others
        ]
    else:
        assert topped == []
    assert len(surcharges) <= 1
    for part in (*lines, *surcharges, *fees):
        assert isinstance(part["amount_cents"], int) and part["amount_cents"] >= 0
        assert part["code"] and part["description"]
    assert quote["currency"] == "USD"
    assert quote["high_value"] is (quote["total_cents"] >= catalog.policy["high_value_cents"])

    # The one surcharge is the largest rule matching the date, on the priced lines only.
    matching = matching_surcharges(catalog, draft["date"])
    if matching:
        rule = max((m["rule"] for m in matching), key=lambda r: r.percent_bp)
        [surcharge] = surcharges
        assert surcharge["code"] in {m["rule"].code for m in matching}
        assert surcharge["amount_cents"] == percent_of(quote["subtotal_cents"], rule.percent_bp)
    else:
        assert surcharges == []
    expected_fees = [catalog.policy["coi_fee_cents"]] if draft["coi_handling"] else []
    assert [f["amount_cents"] for f in fees] == expected_fees

    # Specialty lines: one per item, price x qty.
    for item in draft["specialty_items"]:
        [line] = [x for x in lines if x["code"] == f"specialty.{item['code']}"]
        assert line["amount_cents"] == catalog.specialty[item["code"]].price_cents * item["qty"]

    assert price(catalog, copy.deepcopy(draft), now) == quote, "deterministic"


@ONE_BACKEND
@PROPERTY_SETTINGS
@given(data=st.data(), now=st.sampled_from([MORNING, AFTERNOON]))
def test_seeded_catalog_invariants(seeded, data, now):
    draft = data.draw(drafts(seeded, now))
    check_invariants(seeded, draft, now)


@PROPERTY_SETTINGS
@given(data=st.data(), now=st.sampled_from([MORNING, AFTERNOON]))
def test_invariants_hold_for_any_edited_catalog(data, now):
    catalog = data.draw(catalogs())
    draft = data.draw(drafts(catalog, now))
    check_invariants(catalog, draft, now)


@ONE_BACKEND
@PROPERTY_SETTINGS
@given(data=st.data())
def test_seeded_same_day_invariants(seeded, data):
    check_invariants(seeded, data.draw(drafts(seeded, MORNING, same_day=True)), MORNING)


@PROPERTY_SETTINGS
@given(data=st.data())
def test_same_day_invariants_hold_for_any_edited_catalog(data):
    catalog = data.draw(catalogs(min_cutoff_hour=11))  # open at 10:00
    check_invariants(catalog, data.draw(drafts(catalog, MORNING, same_day=True)), MORNING)


@ONE_BACKEND
@PROPERTY_SETTINGS
@given(data=st.data())
def test_coi_adds_exactly_the_fee_and_is_never_surcharged(seeded, data):
    draft = data.draw(drafts(seeded, MORNING))
    without = price(seeded, {**draft, "coi_handling": False}, MORNING)
    with_coi = price(seeded, {**draft, "coi_handling": True}, MORNING)
    assert with_coi["total_cents"] - without["total_cents"] == seeded.policy["coi_fee_cents"]
    assert with_coi["surcharges"] == without["surcharges"]


@ONE_BACKEND
@PROPERTY_SETTINGS
@given(
    data=st.data(),
    service=st.sampled_from(["mini_move", "standard_delivery", "specialty", "moving"]),
    package=st.none() | st.sampled_from(["petite", "standard", "full", "huge"]),
    item_count=st.none() | st.integers(1, 600),
    offset=st.integers(-400, 400),
    same_day=st.booleans(),
    codes=st.lists(st.sampled_from(["peloton", "crib", "surfboard", "piano"]), max_size=3),
)
def test_any_draft_prices_or_is_refused_naming_a_field(
    seeded, data, service, package, item_count, offset, same_day, codes
):
    """Drafts the schema would let through (or nearly): an answer or InvalidDraft, nothing else."""
    draft = {
        "service_type": service,
        "package": package,
        "item_count": item_count,
        "date": TODAY + dt.timedelta(days=offset),
        "same_day": same_day,
        "coi_handling": data.draw(st.booleans()),
        "specialty_items": [{"code": code, "qty": data.draw(st.integers(1, 20))} for code in codes],
    }
    try:
        quote = price(seeded, draft, MORNING)
    except InvalidDraft as exc:
        assert exc.field in {
            "service_type",
            "package",
            "item_count",
            "date",
            "same_day",
            "specialty_items",
        } or exc.field.startswith("specialty_items.")
        assert exc.description
    else:
        assert quote["total_cents"] >= 0
        assert 0 <= offset <= seeded.policy["max_days_ahead"]
        assert "piano" not in codes and len(set(codes)) == len(codes)
        if service == "mini_move":
            limit = seeded.package(package).max_items
            assert item_count is None or item_count <= limit
