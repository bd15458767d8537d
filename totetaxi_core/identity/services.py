"""Identity operations, callable from views, the console and the CLI.

They take a :class:`~totetaxi_core.context.Context` and raise :class:`IdentityError` with the
field at fault; views turn that into a 4xx answer.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update

from .. import audit
from ..context import Context
from ..db import utcnow
from .models import (
    Customer,
    CustomerProfile,
    PasswordResetToken,
    PrincipalKind,
    Role,
    StaffProfile,
    StaffUser,
)
from .passwords import hash_password, password_problem, verify_password
from .secrets import digest, new_token
from .tokens import revoke_all

log = logging.getLogger("totetaxi.identity")

RESET_TOKEN_LIFETIME = dt.timedelta(hours=1)
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$")


@dataclass
class IdentityError(Exception):
    """A refusal: ``status`` (400, 401, 409, 422), the ``field`` at fault and a sentence."""

    status: int
    field: str
    description: str

    def __str__(self) -> str:
        return f"{self.field}: {self.description}"


def normalize_email(email: str) -> str:
    return email.strip().lower()


def check_password_strength(password: str, *, email: str = "", names: tuple[str, ...] = ()) -> None:
    problem = password_problem(password, email=email, names=names)
    if problem:
        raise IdentityError(400, "password", f"Password too weak: {problem}")


# --- customers ------------------------------------------------------------------------------


def find_customer(ctx: Context, email: str) -> Customer | None:
    return ctx.dbsession.scalars(
        select(Customer).where(Customer.email == normalize_email(email))
    ).first()


def register_customer(
    ctx: Context, *, email: str, password: str, first_name: str, last_name: str, phone: str = ""
) -> Customer:
    """Create a customer account with an empty profile."""
    email = normalize_email(email)
    check_password_strength(password, email=email, names=(first_name, last_name))
    if find_customer(ctx, email) is not None:
        raise IdentityError(
            409,
            "email",
            "An account with this email already exists; sign in or reset your password.",
        )
    customer = Customer(
        email=email,
        password_hash=hash_password(password),
        first_name=first_name,
        last_name=last_name,
        phone=phone,
        password_changed_at=utcnow(),
    )
    customer.profile = CustomerProfile(preferences={})
    ctx.dbsession.add(customer)
    ctx.dbsession.flush()
    return customer


def authenticate(ctx: Context, kind: PrincipalKind, email: str, password: str) -> Any:
    """The active principal with these credentials, or ``None``.

    An unknown email costs the same argon2 verification as a wrong password. A right password
    stored with old hashing parameters is rehashed.
    """
    model = StaffUser if kind == PrincipalKind.STAFF else Customer
    principal = ctx.dbsession.scalars(
        select(model).where(model.email == normalize_email(email))
    ).first()
    usable = principal is not None and principal.is_active
    ok, rehash = verify_password(principal.password_hash if usable else None, password)
    if not ok:
        return None
    if rehash:
        principal.password_hash = rehash
    principal.last_login_at = utcnow()
    return principal


def set_password(ctx: Context, principal: Any, password: str) -> None:
    """Store a new password (strength-checked) and revoke the principal's bearer tokens."""
    names = (getattr(principal, "first_name", ""), getattr(principal, "last_name", ""))
    check_password_strength(password, email=principal.email, names=names)
    principal.password_hash = hash_password(password)
    principal.password_changed_at = utcnow()
    revoke_all(ctx.dbsession, principal.kind, principal.id)
    # Any other reset link of this account dies with the old password.
    ctx.dbsession.execute(
        update(PasswordResetToken)
        .where(
            PasswordResetToken.principal_kind == principal.kind,
            PasswordResetToken.principal_id == principal.id,
            PasswordResetToken.used_at.is_(None),
        )
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )


#: The task that does a reset request's work, so that the request does the same for any email.
RESET_TASK = "identity.password_reset"


def password_reset_task(ctx: Context, email: str) -> None:
    """Task :data:`RESET_TASK`: :func:`request_password_reset` for ``email``."""
    request_password_reset(ctx, email)


def request_password_reset(ctx: Context, email: str) -> str | None:
    """Make a single-use reset token for the customer with ``email`` and fire the event.

    Returns the reset URL, or ``None`` when no active account has this email: the caller
    answers the same either way.
    """
    customer = find_customer(ctx, email)
    if customer is None or not customer.is_active:
        return None
    token = new_token()
    now = utcnow()
    ctx.dbsession.add(
        PasswordResetToken(
            token_hash=digest(token),
            principal_kind=PrincipalKind.CUSTOMER,
            principal_id=customer.id,
            created_at=now,
            expires_at=now + RESET_TOKEN_LIFETIME,
        )
    )
    settings = ctx.settings
    url = settings["totetaxi.public_url"].rstrip("/") + settings[
        "totetaxi.password_reset_path"
    ].replace("{token}", token)
    ctx.call_hook("totetaxi_password_reset_requested", principal=customer, reset_url=url)
    if not ctx.hooks.implementers("totetaxi_password_reset_requested"):
        # No notifications plugin yet: development shows the link in the log; production must
        # never write a working reset link to a log.
        if settings["totetaxi.environment"] != "production":
            log.warning("password reset link for %s (no mailer plugin): %s", customer.email, url)
        else:
            log.error("password reset requested but no plugin sends it (enable notifications)")
    return url


def confirm_password_reset(ctx: Context, token: str, password: str) -> Customer:
    """Use a reset token once: set the password; the caller ends the sessions."""
    row = ctx.dbsession.scalars(
        select(PasswordResetToken)
        .where(PasswordResetToken.token_hash == digest(token))
        .with_for_update()
    ).first()
    if row is None or row.used_at is not None or row.expires_at <= utcnow():
        raise IdentityError(
            400, "token", "This reset link is invalid, used or expired; ask for a new one."
        )
    customer = ctx.dbsession.get(Customer, row.principal_id)
    if customer is None or not customer.is_active:
        raise IdentityError(
            400, "token", "This reset link is invalid, used or expired; ask for a new one."
        )
    set_password(ctx, customer, password)
    row.used_at = utcnow()
    return customer


# --- staff -----------------------------------------------------------------------------------


def staff_count(ctx: Context) -> int:
    return ctx.dbsession.scalar(select(func.count()).select_from(StaffUser)) or 0


def create_staff(
    ctx: Context,
    *,
    email: str,
    password: str,
    role: Role | str,
    first_name: str = "",
    last_name: str = "",
    phone: str = "",
    department: str = "",
    hire_date: dt.date | None = None,
) -> StaffUser:
    """Create a staff user with a profile; audited."""
    email = normalize_email(email)
    if not EMAIL.match(email) or len(email) > 254:
        raise IdentityError(400, "email", "Enter a valid email address.")
    try:
        role = Role(role)
    except ValueError:
        raise IdentityError(400, "role", f"Role must be one of {', '.join(Role)}.") from None
    check_password_strength(password, email=email, names=(first_name, last_name))
    exists = ctx.dbsession.scalars(select(StaffUser).where(StaffUser.email == email)).first()
    if exists is not None:
        raise IdentityError(409, "email", "A staff user with this email already exists.")
    staff = StaffUser(
        email=email,
        password_hash=hash_password(password),
        role=role,
        first_name=first_name,
        last_name=last_name,
        password_changed_at=utcnow(),
    )
    staff.profile = StaffProfile(phone=phone, department=department, hire_date=hire_date)
    ctx.dbsession.add(staff)
    ctx.dbsession.flush()
    audit.record(
        ctx,
        "staff.created",
        "staff_user",
        staff.id,
        after={
            "email": email,
            "role": role,
            "first_name": first_name,
            "last_name": last_name,
            "phone": phone,
            "department": department,
            "hire_date": hire_date,
        },
    )
    return staff


def change_role(ctx: Context, staff: StaffUser, role: Role | str) -> None:
    """Change a staff user's role; refuses to leave no active admin. Audited."""
    try:
        role = Role(role)
    except ValueError:
        raise IdentityError(400, "role", f"Role must be one of {', '.join(Role)}.") from None
    if staff.role == role:
        return
    if staff.role == Role.ADMIN and _other_active_admins(ctx, staff) == 0:
        raise IdentityError(409, "role", "This is the last active admin; make another admin first.")
    before = staff.role
    staff.role = role
    audit.record(
        ctx,
        "staff.role_changed",
        "staff_user",
        staff.id,
        before={"role": before},
        after={"role": role},
    )


def set_active(ctx: Context, staff: StaffUser, active: bool) -> None:
    """Disable (or re-enable) a staff user; disabling ends their sessions and tokens. Audited."""
    if staff.is_active == active:
        return
    if not active and staff.role == Role.ADMIN and _other_active_admins(ctx, staff) == 0:
        raise IdentityError(
            409, "active", "This is the last active admin; make another admin first."
        )
    _switch_account(ctx, staff, PrincipalKind.STAFF, "staff", "staff_user", active)


def _switch_account(
    ctx: Context,
    account: StaffUser | Customer,
    kind: PrincipalKind,
    action: str,
    target: str,
    active: bool,
) -> None:
    """Set ``is_active``; switching off ends every session and token at once. Audited as
    ``<action>.enabled`` / ``<action>.disabled``."""
    account.is_active = active
    if not active:
        revoke_all(ctx.dbsession, kind, account.id)
        ctx.registry.session_store.delete_for(ctx.dbsession, kind, account.id)
    audit.record(
        ctx,
        f"{action}.enabled" if active else f"{action}.disabled",
        target,
        account.id,
        before={"is_active": not active},
        after={"is_active": active},
    )


def _other_active_admins(ctx: Context, staff: StaffUser) -> int:
    # Locks the admin rows (PostgreSQL): two admins demoting each other at the same moment
    # queue here, and the second sees the first's change.
    return len(
        list(
            ctx.dbsession.scalars(
                select(StaffUser.id)
                .where(
                    StaffUser.role == Role.ADMIN,
                    StaffUser.is_active.is_(True),
                    StaffUser.id != staff.id,
                )
                .with_for_update()
            )
        )
    )


def get_staff(ctx: Context, staff_id: str | uuid.UUID) -> StaffUser | None:
    try:
        return ctx.dbsession.get(StaffUser, uuid.UUID(str(staff_id)))
    except ValueError:
        return None


def set_customer_active(ctx: Context, customer: Customer, active: bool) -> None:
    """Disable (or re-enable) a customer account, for customer care; disabling ends its
    sessions and tokens at once (a disabled account cannot sign in). Audited."""
    if customer.is_active == active:
        return
    _switch_account(ctx, customer, PrincipalKind.CUSTOMER, "customer", "customer", active)
