"""The notifications plugin's own permissions (granted to roles in the manifest)."""

from __future__ import annotations

from enum import StrEnum


class NotificationsPermission(StrEnum):
    #: Save an email template (staff and admins).
    EDIT = "notifications.edit"
    #: Resend a failed or held email, release a held address (staff and admins).
    RESEND = "notifications.resend"


#: Which role each permission is granted to (the manifest's ``permissions``).
GRANTS: dict[str, str] = {
    NotificationsPermission.EDIT: "staff",
    NotificationsPermission.RESEND: "staff",
}
