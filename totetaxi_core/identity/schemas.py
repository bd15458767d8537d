"""Colander schemas of the account API (strict types: PITFALLS 2 and 5)."""

from __future__ import annotations

from typing import Any

import colander

from ..api.schemas import BoundedObject, CleanString, ObjectBounds
from ..api.schemas import RawString as Password

PHONE = colander.Regex(r"^[0-9+().\- ]{7,25}$", "Enter a phone number (digits, spaces, + - ( ) .).")
US_STATE = colander.Regex(r"^[A-Z]{2}$", "Use the two-letter state code, e.g. NY.")
ZIP = colander.Regex(r"^\d{5}(-\d{4})?$", "Use a 5-digit ZIP code (or ZIP+4).")


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


def _name() -> colander.SchemaNode:
    return colander.SchemaNode(CleanString(), validator=colander.Length(min=1, max=100))


class RegisterBody(colander.MappingSchema):
    email = _email()
    password = colander.SchemaNode(Password(), validator=colander.Length(max=256))
    first_name = _name()
    last_name = _name()
    phone = colander.SchemaNode(CleanString(), validator=PHONE)


class CredentialsBody(colander.MappingSchema):
    email = colander.SchemaNode(CleanString(), validator=colander.Length(min=1, max=254))
    password = colander.SchemaNode(Password(), validator=colander.Length(min=1, max=256))


class ResetBody(colander.MappingSchema):
    email = _email()


class ResetConfirmBody(colander.MappingSchema):
    token = colander.SchemaNode(CleanString(), validator=colander.Length(min=10, max=200))
    password = colander.SchemaNode(Password(), validator=colander.Length(max=256))


class PasswordChangeBody(colander.MappingSchema):
    current_password = colander.SchemaNode(Password(), validator=colander.Length(min=1, max=256))
    new_password = colander.SchemaNode(Password(), validator=colander.Length(max=256))


class MePatchBody(colander.MappingSchema):
    first_name = colander.SchemaNode(
        CleanString(), validator=colander.Length(min=1, max=100), missing=colander.drop
    )
    last_name = colander.SchemaNode(
        CleanString(), validator=colander.Length(min=1, max=100), missing=colander.drop
    )
    phone = colander.SchemaNode(CleanString(), validator=PHONE, missing=colander.drop)
    preferences = colander.SchemaNode(BoundedObject(PREFERENCE_BOUNDS), missing=colander.drop)


class AddressBody(colander.MappingSchema):
    label = colander.SchemaNode(CleanString(), validator=colander.Length(min=1, max=60))
    line1 = colander.SchemaNode(CleanString(), validator=colander.Length(min=1, max=200))
    line2 = colander.SchemaNode(CleanString(), validator=colander.Length(max=200), missing="")
    city = colander.SchemaNode(CleanString(), validator=colander.Length(min=1, max=100))
    state = colander.SchemaNode(CleanString(), validator=US_STATE)
    postal_code = colander.SchemaNode(CleanString(), validator=ZIP)


class AddressPatchBody(colander.MappingSchema):
    label = colander.SchemaNode(
        CleanString(), validator=colander.Length(min=1, max=60), missing=colander.drop
    )
    line1 = colander.SchemaNode(
        CleanString(), validator=colander.Length(min=1, max=200), missing=colander.drop
    )
    line2 = colander.SchemaNode(
        CleanString(), validator=colander.Length(max=200), missing=colander.drop
    )
    city = colander.SchemaNode(
        CleanString(), validator=colander.Length(min=1, max=100), missing=colander.drop
    )
    state = colander.SchemaNode(CleanString(), validator=US_STATE, missing=colander.drop)
    postal_code = colander.SchemaNode(CleanString(), validator=ZIP, missing=colander.drop)
