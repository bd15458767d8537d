"""Every core table, imported in one place so the metadata is complete (Alembic, tests)."""

from .api.idempotency import IdempotencyRecord
from .audit.models import AuditRecord
from .bookings.models import Address, Booking, BookingCounter, BookingEvent
from .identity.models import (
    ApiToken,
    AuthSession,
    Customer,
    CustomerProfile,
    PasswordResetToken,
    SavedAddress,
    StaffProfile,
    StaffUser,
    ThrottleCounter,
)
from .plugins.models import InstalledPlugin
from .tasks.models import OutboxMessage

__all__ = [
    "Address",
    "ApiToken",
    "AuditRecord",
    "AuthSession",
    "Booking",
    "BookingCounter",
    "BookingEvent",
    "Customer",
    "CustomerProfile",
    "IdempotencyRecord",
    "InstalledPlugin",
    "OutboxMessage",
    "PasswordResetToken",
    "SavedAddress",
    "StaffProfile",
    "StaffUser",
    "ThrottleCounter",
]
