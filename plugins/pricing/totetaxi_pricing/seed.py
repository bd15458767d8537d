"""The catalog as BUSINESS_RULES.md states it, loaded once when the plugin is installed.

From then on the figures live in the database and admins edit them in the console; nothing in
the code knows a price.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from .models import MiniMovePackage, PricingPolicy, SpecialtyItem, SurchargeRule

PACKAGES = (
    ("petite", "Petite", 99500, 15),
    ("standard", "Standard", 172500, 35),
    ("full", "Full", 249000, 60),
)
SPECIALTY = (
    ("peloton", "Peloton", 50000),
    ("surfboard", "Surfboard", 35000),
    ("crib", "Crib", 35000),
    ("wardrobe_box", "Wardrobe Box", 27500),
)
SURCHARGES = (
    ("weekend", "Weekend", 1500),
    ("holiday", "US federal holiday", 2000),
    ("peak", "Peak dates", 2500),
)


def seed(dbsession: Session, settings: dict[str, Any]) -> None:
    for order, (code, name, price, max_items) in enumerate(PACKAGES):
        dbsession.add(
            MiniMovePackage(
                code=code, name=name, price_cents=price, max_items=max_items, sort_order=order
            )
        )
    for order, (code, name, price) in enumerate(SPECIALTY):
        dbsession.add(SpecialtyItem(code=code, name=name, price_cents=price, sort_order=order))
    for code, name, percent in SURCHARGES:
        dbsession.add(SurchargeRule(code=code, name=name, percent_bp=percent))
    dbsession.add(
        PricingPolicy(
            id=1,
            catalog_version=1,
            per_item_cents=9500,
            minimum_cents=28500,
            booking_minimum_cents=28500,
            same_day_flat_cents=36000,
            same_day_included_items=3,
            same_day_cutoff_hour=12,
            coi_fee_cents=5000,
            high_value_cents=200000,
            van_capacity=4,
            specialty_capacity=2,
            max_days_ahead=180,
        )
    )
