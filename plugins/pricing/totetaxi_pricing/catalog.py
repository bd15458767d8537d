"""A read-only snapshot of the pricing tables, cached per process.

Every quote checks the catalog version (one primary-key read) and reloads the snapshot only
when an edit moved it, so all processes price with the current figures.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from totetaxi_core.plugin_api import find_service

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


class CatalogCache:
    """The process's catalog snapshot, reloaded when the stored version differs."""

    def __init__(self) -> None:
        self._catalog: Catalog | None = None
        self._lock = threading.Lock()

    def get(self, dbsession: Session, version: int | None = None) -> Catalog:
        """The current catalog; pass ``version`` when the caller already read it."""
        if version is None:
            version = dbsession.scalar(
                select(PricingPolicy.catalog_version).where(PricingPolicy.id == 1)
            )
        catalog = self._catalog
        if catalog is None or catalog.version != version:
            with self._lock:
                catalog = read_catalog(dbsession)
                self._catalog = catalog
        return catalog

    def clear(self) -> None:
        self._catalog = None


#: The service holding this app's :class:`CatalogCache`.
CATALOG_SERVICE = "pricing.catalog"


def cache_of(where: Any) -> CatalogCache:
    """The app's catalog cache; ``where`` is a request, a ``ctx`` or the registry."""
    cache: CatalogCache = find_service(where, CATALOG_SERVICE)
    return cache
