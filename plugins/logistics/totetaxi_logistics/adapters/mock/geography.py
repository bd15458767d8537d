"""Plausible coordinates for the simulated fleet: no geocoder, a few known places.

An address is placed near the centre of its area (Manhattan, the Hamptons' villages, else New
York City), offset by a stable hash of its street so that two addresses do not coincide. Good
enough for a driver's dot to move along a believable line between Manhattan and the Hamptons.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from typing import Any

#: Where the vans start the day (Long Island City).
DEPOT = (40.7447, -73.9485)

#: ZIP code prefixes and the centre of their area.
AREAS: tuple[tuple[str, tuple[float, float]], ...] = (
    ("11937", (40.9634, -72.1848)),  # East Hampton
    ("11968", (40.8843, -72.3895)),  # Southampton
    ("11932", (40.9379, -72.3009)),  # Bridgehampton
    ("11963", (40.9976, -72.2926)),  # Sag Harbor
    ("11954", (41.0359, -71.9545)),  # Montauk
    ("119", (40.9, -72.3)),  # elsewhere in the Hamptons
    ("100", (40.7580, -73.9855)),  # Manhattan
    ("101", (40.7580, -73.9855)),
    ("102", (40.7128, -74.0060)),
)
NEW_YORK = (40.7306, -73.9352)


def locate(address: Mapping[str, Any]) -> tuple[float, float]:
    """A stable point for ``address`` (its ``zip_code`` and ``street``)."""
    zip_code = str(address.get("zip_code", ""))
    centre = next((point for prefix, point in AREAS if zip_code.startswith(prefix)), NEW_YORK)
    digest = hashlib.sha256(str(address.get("street", "")).lower().encode()).digest()
    # Within about a kilometre of the centre.
    return (
        round(centre[0] + (digest[0] - 128) / 128 * 0.008, 6),
        round(centre[1] + (digest[1] - 128) / 128 * 0.008, 6),
    )


def along(
    start: tuple[float, float], end: tuple[float, float], share: float
) -> tuple[float, float]:
    """The point ``share`` (0 to 1) of the way from ``start`` to ``end``."""
    share = min(max(share, 0.0), 1.0)
    return (
        round(start[0] + (end[0] - start[0]) * share, 6),
        round(start[1] + (end[1] - start[1]) * share, 6),
    )


def kilometres(start: tuple[float, float], end: tuple[float, float]) -> float:
    """Great-circle distance (haversine), in kilometres."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*start, *end))
    a = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 6371.0 * 2 * math.asin(math.sqrt(a))
