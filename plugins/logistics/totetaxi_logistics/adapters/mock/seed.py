"""The mock fleet's first drivers, so that a fresh ``make run`` can dispatch at once."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ...models import Driver

DRIVERS = (
    ("mock-driver-1", "Sam Rivera", "+12125550101", "Sprinter van NY-4821", True),
    ("mock-driver-2", "Alex Chen", "+12125550102", "Sprinter van NY-7730", True),
    ("mock-driver-3", "Jordan Blake", "+12125550103", "Box truck NY-1904 (specialty)", False),
)


def seed(dbsession: Any, settings: Any) -> None:
    known = set(dbsession.scalars(select(Driver.provider_id).where(Driver.provider == "mock")))
    for provider_id, name, phone, vehicle, on_duty in DRIVERS:
        if provider_id not in known:
            dbsession.add(
                Driver(
                    provider="mock",
                    provider_id=provider_id,
                    name=name,
                    phone=phone,
                    vehicle=vehicle,
                    on_duty=on_duty,
                )
            )
