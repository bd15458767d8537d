"""Colander schemas of the account API (strict types: PITFALLS 2 and 5)."""

from __future__ import annotations

from typing import Any

import colander

from ..addresses import AddressFields, AddressPatchFields
from ..api.responses import free, moment, text, whole
from ..api.schemas import BoundedObject, CleanString, ObjectBounds
from ..api.schemas import RawString as Password
from .passwords import MAX_LENGTH, MIN_LENGTH

PHONE = colander.Regex(r"^[0-9+().\- ]{7,25}$", "Enter a phone number (digits, spaces, + - ( ) .).")


#: A front end's free-form settings, returned by every ``GET /me``: bounded so that no account
#: carries a blob.
PREFERENCE_BOUNDS = ObjectBounds(keys=50, key_length=64, depth=4, size=8192)


def preferences_problem(value: Any) -> str | None:
    """Why ``value`` cannot be stored as a customer's preferences, or ``None``."""
    return PREFERENCE_BOUNDS.problem(value)


def _email() -> colander.SchemaNode:
    return colander.SchemaNode(
        CleanString(), validator=colander.All(colander.Length(max=254), colander.Email())
    )


def _new_password() -> colander.SchemaNode:
    """A password being chosen: what of the strength rules a schema can say, in the words of
    :func:`~.passwords.password_problem` (the rest — common passwords, the email or a name,
    too few different characters — only the service can judge)."""
    return colander.SchemaNode(
        Password(),
        validator=colander.All(
            colander.Length(
                min=MIN_LENGTH,
                max=MAX_LENGTH,
                min_err=f"Password too weak: Use at least {MIN_LENGTH} characters.",
                max_err=f"Password too weak: Use at most {MAX_LENGTH} characters.",
            ),
            # Some character that is not an ASCII digit (anchored so that colander's match and
            # a JSON Schema search agree).
            colander.Regex(
                r"^[\s\S]*[^0-9]", "Password too weak: Use letters or symbols too, not only digits."
            ),
        ),
    )


def _name() -> colander.SchemaNode:
    return colander.SchemaNode(CleanString(), validator=colander.Length(min=1, max=100))


class RegisterBody(colander.MappingSchema):
    email = _email()
    password = _new_password()
    first_name = _name()
    last_name = _name()
    phone = colander.SchemaNode(CleanString(), validator=PHONE)


class CredentialsBody(colander.MappingSchema):
    #: Shown in the API document (sign-in and both token operations).
    example = {"email": "casey@example.com", "password": "Correct-Horse-Battery-9"}

    email = colander.SchemaNode(CleanString(), validator=colander.Length(min=1, max=254))
    password = colander.SchemaNode(Password(), validator=colander.Length(min=1, max=256))


class ResetBody(colander.MappingSchema):
    email = _email()


class ResetConfirmBody(colander.MappingSchema):
    token = colander.SchemaNode(CleanString(), validator=colander.Length(min=10, max=200))
    password = _new_password()


class PasswordChangeBody(colander.MappingSchema):
    current_password = colander.SchemaNode(Password(), validator=colander.Length(min=1, max=256))
    new_password = _new_password()


class MePatchBody(colander.MappingSchema):
    first_name = colander.SchemaNode(
        CleanString(), validator=colander.Length(min=1, max=100), missing=colander.drop
    )
    last_name = colander.SchemaNode(
        CleanString(), validator=colander.Length(min=1, max=100), missing=colander.drop
    )
    phone = colander.SchemaNode(CleanString(), validator=PHONE, missing=colander.drop)
    preferences = colander.SchemaNode(BoundedObject(PREFERENCE_BOUNDS), missing=colander.drop)


class AddressBody(AddressFields):
    """A saved address: a label and an address, standardised (the text as typed kept)."""

    label = colander.SchemaNode(CleanString(), validator=colander.Length(min=1, max=60))


class AddressPatchBody(AddressPatchFields):
    """Any of a saved address's fields; each address part sent is standardised."""

    label = colander.SchemaNode(
        CleanString(), validator=colander.Length(min=1, max=60), missing=colander.drop
    )


# --- answers (the OpenAPI document's response bodies: open objects, see api.responses) ---------


class Counts(colander.MappingSchema):
    total_bookings = whole()
    completed_bookings = whole()
    total_spent_cents = whole()


class CustomerOut(colander.MappingSchema):
    """A customer account as its owner (and staff) see it."""

    id = text()
    email = text()
    first_name = text()
    last_name = text()
    phone = text()
    preferences = free(description="The front end's own settings, as last saved.")
    counts = Counts()
    created_at = moment()


class SignedIn(colander.MappingSchema):
    """The answer of registering and signing in (with the session cookie and X-CSRF-Token)."""

    customer = CustomerOut()


class TokenOut(colander.MappingSchema):
    """A bearer token: send it as ``Authorization: Bearer <token>``."""

    token = text()
    expires_at = moment()


class StaffTokenOut(TokenOut):
    """A staff bearer token and the role it acts with."""

    role = text(validator=colander.OneOf(("viewer", "staff", "admin")))


#: Answers shown in the API document.
TOKEN_EXAMPLE = {
    "token": "tt_c2VjcmV0LWV4YW1wbGUtdG9rZW4tbm90LXJlYWw",
    "expires_at": "2026-12-23T15:00:00+00:00",
}
STAFF_TOKEN_EXAMPLE = {**TOKEN_EXAMPLE, "role": "staff"}
SIGNED_IN_EXAMPLE = {
    "customer": {
        "id": "2401ada4-20d0-4ffc-9341-2e9d38b92d3b",
        "email": "casey@example.com",
        "first_name": "Casey",
        "last_name": "Client",
        "phone": "+1 212 555 0100",
        "preferences": {},
        "counts": {"total_bookings": 2, "completed_bookings": 1, "total_spent_cents": 199000},
        "created_at": "2026-10-02T14:21:07+00:00",
    }
}


class CsrfOut(colander.MappingSchema):
    """The session's CSRF token, for the ``X-CSRF-Token`` header."""

    csrf_token = text()


class Accepted(colander.MappingSchema):
    """The same answer for any email (no account enumeration)."""

    status = text(validator=colander.OneOf(("accepted",)))
    detail = text()


class AddressOut(colander.MappingSchema):
    """A saved address."""

    id = text()
    label = text()
    line1 = text()
    line2 = text()
    city = text()
    state = text()
    postal_code = text()
    created_at = moment()
    updated_at = moment()
