"""The CRM plugin's permissions.

Reading the dashboard, reports and audit views takes the core's ``Permission.STAFF_READ``;
exporting takes :data:`EXPORT` (staff and admins: an export leaves the building).
"""

from __future__ import annotations

#: Download a report as CSV.
EXPORT = "crm.export"

#: Customer care: notes, disabling an account, sending a reset link.
CARE = "crm.care"

GRANTS: dict[str, str] = {EXPORT: "staff", CARE: "staff"}
