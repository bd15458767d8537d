"""A read-only snapshot of the pricing tables, held in memory by each process.

A quote reads no table: the catalog comes from memory. Every edit moves the stored catalog
version; the editing process drops its snapshot when the edit commits, and the others re-check
the version at most once a second (:class:`~totetaxi_core.plugin_api.Snapshot`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from totetaxi_core.plugin_api import Snapshot, find_service

from .models import MiniMovePackage, PeakRange, PricingPolicy, SpecialtyItem, SurchargeRule

#: The service types the catalog prices and their names as people read them, the one list every
#: page and email shows (through hook ``totetaxi_service_labels``; the catalog page's headings).
SERVICE_LABELS: dict[str, str] = {
    "mini_move": "Mini Move",
    "standard_delivery": "Standard Delivery",  # as BUSINESS_RULES names the services
    "specialty": "Specialty items",
}
SERVICE_TYPES = tuple(SERVICE_LABELS)


@dataclass(frozen=True)
class Package:
    code: str
    name: str
    price_cents: int
    max_items: int


@dataclass(frozen=True)
class Specialty:
    code: str
    name: str
    price_cents: int


@dataclass(frozen=True)
class Surcharge:
    code: str
    name: str
    percent_bp: int


@dataclass(frozen=True)
class Peak:
    name: str
    start: dt.date
    end: dt.date


@dataclass(frozen=True)
class Catalog:
    """Everything a quote needs, immutable."""

    version: int
    packages: tuple[Package, ...]  # by size, smallest first
    specialty: dict[str, Specialty]
    surcharges: dict[str, Surcharge]  # active rules only
    peaks: tuple[Peak, ...]
    policy: dict[str, int] = field(default_factory=dict)

    def package(self, code: str) -> Package | None:
        return next((p for p in self.packages if p.code == code), None)


_POLICY_FIELDS = (
    "per_item_cents",
    "minimum_cents",
    "booking_minimum_cents",
    "same_day_flat_cents",
    "same_day_included_items",
    "same_day_cutoff_hour",
    "coi_fee_cents",
    "high_value_cents",
    "van_capacity",
    "specialty_capacity",
    "max_days_ahead",
)


def read_catalog(dbsession: Session) -> Catalog:
    """Load the whole catalog from the database."""
    policy = dbsession.get(PricingPolicy, 1)
    if policy is None:
        raise LookupError("the pricing catalog is missing: run `totetaxi migrate`")
    packages = dbsession.scalars(
        select(MiniMovePackage)
        .where(MiniMovePackage.active.is_(True))
        .order_by(MiniMovePackage.max_items, MiniMovePackage.sort_order)
    )
    specialty = dbsession.scalars(
        select(SpecialtyItem)
        .where(SpecialtyItem.active.is_(True))
        .order_by(SpecialtyItem.sort_order)
    )
    rules = dbsession.scalars(select(SurchargeRule).where(SurchargeRule.active.is_(True)))
    peaks = dbsession.scalars(select(PeakRange).order_by(PeakRange.start_date))
    return Catalog(
        version=policy.catalog_version,
        packages=tuple(Package(p.code, p.name, p.price_cents, p.max_items) for p in packages),
        specialty={s.code: Specialty(s.code, s.name, s.price_cents) for s in specialty},
        surcharges={r.code: Surcharge(r.code, r.name, r.percent_bp) for r in rules},
        peaks=tuple(Peak(p.name, p.start_date, p.end_date) for p in peaks),
        policy={name: getattr(policy, name) for name in _POLICY_FIELDS},
    )


def stored_version(dbsession: Session) -> int | None:
    """The catalog version in the database (one primary-key read)."""
    return dbsession.scalar(select(PricingPolicy.catalog_version).where(PricingPolicy.id == 1))


class CatalogCache(Snapshot[Catalog]):
    """The process's catalog, served from memory (:class:`~totetaxi_core.plugin_api.Snapshot`):
    an edit is seen at once by the process that made it and within a second by every other,
    whose re-check reads the stored version and reloads only when it moved."""

    def __init__(self) -> None:
        super().__init__(read_catalog, version=stored_version)


#: The service holding this app's :class:`CatalogCache`.
CATALOG_SERVICE = "pricing.catalog"


def cache_of(where: Any) -> CatalogCache:
    """The app's catalog cache; ``where`` is a request, a ``ctx`` or the registry."""
    cache: CatalogCache = find_service(where, CATALOG_SERVICE)
    return cache
