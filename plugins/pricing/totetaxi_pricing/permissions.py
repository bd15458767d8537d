"""The pricing plugin's own permissions (granted to roles in the manifest)."""

from __future__ import annotations

from enum import StrEnum


class PricingPermission(StrEnum):
    #: Change the catalog, surcharges, peak dates and capacity (admins).
    EDIT = "pricing.edit"


#: Which role each permission is granted to (the manifest's ``permissions``).
GRANTS: dict[str, str] = {PricingPermission.EDIT: "admin"}
