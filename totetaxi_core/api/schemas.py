"""Colander building blocks for strict API input (PITFALLS 2 and 5).

colander's own ``Integer`` turns ``true`` into 1, ``7.9`` into 7 and ``"7"`` into 7; API input
must be what it claims to be, so schemas use these types instead.
"""

from __future__ import annotations

from typing import Any

import colander


class StrictInteger(colander.Integer):
    """A JSON integer and nothing else: booleans, floats and strings are refused."""

    def deserialize(self, node: colander.SchemaNode, cstruct: Any) -> Any:
        if cstruct is colander.null:
            return colander.null
        if isinstance(cstruct, bool) or not isinstance(cstruct, int):
            raise colander.Invalid(node, f"{cstruct!r} is not a whole number")
        return cstruct


class StrictBoolean(colander.Boolean):
    """A JSON boolean and nothing else."""

    def deserialize(self, node: colander.SchemaNode, cstruct: Any) -> Any:
        if cstruct is colander.null:
            return colander.null
        if not isinstance(cstruct, bool):
            raise colander.Invalid(node, f"{cstruct!r} is not true or false")
        return cstruct


def _json_string(node: colander.SchemaNode, cstruct: Any) -> str:
    if not isinstance(cstruct, str):
        raise colander.Invalid(node, f"{cstruct!r} is not a string")
    if "\x00" in cstruct:
        raise colander.Invalid(node, "must not contain NUL characters")
    return cstruct


class CleanString(colander.String):
    """A JSON string without NUL characters (PostgreSQL refuses them), trimmed."""

    def deserialize(self, node: colander.SchemaNode, cstruct: Any) -> Any:
        if cstruct is colander.null:
            return colander.null
        return _json_string(node, cstruct).strip()


class RawString(colander.String):
    """A JSON string without NUL characters, kept exactly as sent (passwords: no trimming)."""

    def deserialize(self, node: colander.SchemaNode, cstruct: Any) -> Any:
        if cstruct is colander.null:
            return colander.null
        return _json_string(node, cstruct)


class IsoDate(colander.SchemaType):
    """A calendar date written ``YYYY-MM-DD`` (a JSON string or a query parameter)."""

    def serialize(self, node: colander.SchemaNode, appstruct: Any) -> Any:
        return colander.null if appstruct is colander.null else appstruct.isoformat()

    def deserialize(self, node: colander.SchemaNode, cstruct: Any) -> Any:
        import datetime as dt
        import re

        if cstruct is colander.null or cstruct == "":
            return colander.null
        if not isinstance(cstruct, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", cstruct):
            raise colander.Invalid(node, f"{cstruct!r} is not a date written YYYY-MM-DD")
        try:
            return dt.date.fromisoformat(cstruct)
        except ValueError:
            raise colander.Invalid(node, f"{cstruct!r} is not a real date") from None


#: Type converters for cornice_swagger, which looks types up exactly (PITFALLS 4).
SWAGGER_TYPES = {
    StrictInteger: "integer",
    StrictBoolean: "boolean",
    CleanString: "string",
    RawString: "string",
    IsoDate: "date",
}


def refuse_unknown(node: colander.SchemaNode) -> colander.SchemaNode:
    """Make a mapping node refuse keys it does not declare (a typo must not be ignored)."""
    node.typ = colander.Mapping(unknown="raise")
    return node


def strict(schema: type[colander.MappingSchema]) -> colander.MappingSchema:
    """An instance of ``schema`` that refuses unknown keys: what Cornice views take."""
    return refuse_unknown(schema())
