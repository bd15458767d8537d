"""The payments plugin's own permissions (granted to roles in the manifest)."""

from __future__ import annotations

from enum import StrEnum


class PaymentsPermission(StrEnum):
    #: Ask for a refund of a payment (staff and admins).
    REFUND_REQUEST = "payments.refund_request"
    #: Approve or reject a requested refund (admins).
    REFUND_DECIDE = "payments.refund_decide"


#: Which role each permission is granted to (the manifest's ``permissions``).
GRANTS: dict[str, str] = {
    PaymentsPermission.REFUND_REQUEST: "staff",
    PaymentsPermission.REFUND_DECIDE: "admin",
}
