"""The pricing catalog, surcharge rules, capacity: all data, editable by admins.

Money is integer cents; percentages are basis points (1500 = 15%).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, CheckConstraint, Date, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from totetaxi_core.plugin_api import Base, Timestamps, UUIDPrimaryKey


class MiniMovePackage(Timestamps, Base):
    """A flat-priced Mini Move package (Petite, Standard, Full)."""

    __tablename__ = "pricing_packages"
    __table_args__ = (
        CheckConstraint("price_cents >= 0", name="price"),
        CheckConstraint("max_items > 0", name="max_items"),
    )

    code: Mapped[str] = mapped_column(String(30), primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    price_cents: Mapped[int] = mapped_column(Integer)
    max_items: Mapped[int] = mapped_column(Integer)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class SpecialtyItem(Timestamps, Base):
    """An item that needs a specialty-equipped van (Peloton, surfboard, ...)."""

    __tablename__ = "pricing_specialty_items"
    __table_args__ = (CheckConstraint("price_cents >= 0", name="price"),)

    code: Mapped[str] = mapped_column(String(30), primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    price_cents: Mapped[int] = mapped_column(Integer)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class SurchargeRule(Timestamps, Base):
    """A surcharge kind: ``weekend``, ``holiday`` or ``peak``, with its percentage."""

    __tablename__ = "pricing_surcharge_rules"
    __table_args__ = (CheckConstraint("percent_bp >= 0 AND percent_bp <= 10000", name="percent"),)

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    percent_bp: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class PeakRange(UUIDPrimaryKey, Timestamps, Base):
    """Admin-defined peak dates (inclusive), e.g. Memorial Day weekend."""

    __tablename__ = "pricing_peak_ranges"
    __table_args__ = (CheckConstraint("end_date >= start_date", name="order"),)

    name: Mapped[str] = mapped_column(String(80))
    start_date: Mapped[dt.date] = mapped_column(Date, index=True)
    end_date: Mapped[dt.date] = mapped_column(Date, index=True)


class PricingPolicy(Timestamps, Base):
    """The one row of rates and limits (``id = 1``).

    ``catalog_version`` goes up with every edit of any pricing table; each process caches the
    catalog and reloads it when the version moved.

    Two minimums: ``minimum_cents`` is standard delivery's own (its service lines), and
    ``booking_minimum_cents`` the least any booking's priced lines come to, of every service
    type (BUSINESS_RULES "minimum charge"); both are topped up by a visible line.
    """

    __tablename__ = "pricing_policy"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    catalog_version: Mapped[int] = mapped_column(Integer, default=1)
    per_item_cents: Mapped[int] = mapped_column(Integer)
    minimum_cents: Mapped[int] = mapped_column(Integer)
    booking_minimum_cents: Mapped[int] = mapped_column(Integer)
    same_day_flat_cents: Mapped[int] = mapped_column(Integer)
    same_day_included_items: Mapped[int] = mapped_column(Integer)
    same_day_cutoff_hour: Mapped[int] = mapped_column(Integer)
    coi_fee_cents: Mapped[int] = mapped_column(Integer)
    high_value_cents: Mapped[int] = mapped_column(Integer)
    van_capacity: Mapped[int] = mapped_column(Integer)
    specialty_capacity: Mapped[int] = mapped_column(Integer)
    max_days_ahead: Mapped[int] = mapped_column(Integer)


class CapacityDay(Base):
    """One date's capacity override (``None`` = the default) and what is booked.

    Reservations update this row with one conditional statement, so two transactions can never
    both take the day's last slot (the row lock serialises them on PostgreSQL).
    """

    __tablename__ = "pricing_capacity_days"
    __table_args__ = (CheckConstraint("booked >= 0 AND specialty_booked >= 0", name="booked"),)

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    van_capacity: Mapped[int | None] = mapped_column(Integer, default=None)
    specialty_capacity: Mapped[int | None] = mapped_column(Integer, default=None)
    booked: Mapped[int] = mapped_column(Integer, default=0)
    specialty_booked: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str] = mapped_column(String(120), default="")
