"""Colander schemas of the account API (strict types: PITFALLS 2 and 5)."""

from __future__ import annotations

from typing import Any

import colander

from ..addresses import AddressFields, AddressPatchFields
from ..api.schemas import BoundedObject, CleanString, ObjectBounds
from ..api.schemas import RawString as Password

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


class AddressBody(AddressFields):
    """A saved address: a label and an address, standardised (the text as typed kept)."""

    label = colander.SchemaNode(CleanString(), validator=colander.Length(min=1, max=60))


class AddressPatchBody(AddressPatchFields):
    """Any of a saved address's fields; each address part sent is standardised."""

    label = colander.SchemaNode(
        CleanString(), validator=colander.Length(min=1, max=60), missing=colander.drop
    )
