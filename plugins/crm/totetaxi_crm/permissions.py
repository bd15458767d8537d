"""The CRM plugin's permissions.

Reading the dashboard, reports and audit views takes the core's ``Permission.STAFF_READ``;
exporting takes :data:`EXPORT` (staff and admins: an export leaves the building).
"""

from __future__ import annotations

#: Download a report as CSV.
EXPORT = "crm.export"

GRANTS: dict[str, str] = {EXPORT: "staff"}
