"""Colander building blocks for strict API input (PITFALLS 2 and 5).

colander's own ``Integer`` turns ``true`` into 1, ``7.9`` into 7 and ``"7"`` into 7; API input
must be what it claims to be, so schemas use these types instead.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import colander


class StrictInteger(colander.Integer):
    """A JSON integer and nothing else: booleans, floats and strings are refused."""

    def deserialize(self, node: colander.SchemaNode, cstruct: Any) -> Any:
        if cstruct is colander.null:
            return colander.null
        if isinstance(cstruct, bool) or not isinstance(cstruct, int):
            raise colander.Invalid(node, f"{shown(cstruct)} is not a whole number")
        return cstruct


class StrictBoolean(colander.Boolean):
    """A JSON boolean and nothing else."""

    def deserialize(self, node: colander.SchemaNode, cstruct: Any) -> Any:
        if cstruct is colander.null:
            return colander.null
        if not isinstance(cstruct, bool):
            raise colander.Invalid(node, f"{shown(cstruct)} is not true or false")
        return cstruct


def shown(value: Any, limit: int = 40) -> str:
    """``repr(value)`` cut to ``limit`` characters: an error names a value, never quotes a body."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _json_string(node: colander.SchemaNode, cstruct: Any) -> str:
    if not isinstance(cstruct, str):
        raise colander.Invalid(node, f"{shown(cstruct)} is not a string")
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
            raise colander.Invalid(node, f"{shown(cstruct)} is not a date written YYYY-MM-DD")
        try:
            return dt.date.fromisoformat(cstruct)
        except ValueError:
            raise colander.Invalid(node, f"{shown(cstruct)} is not a real date") from None


@dataclass(frozen=True)
class ObjectBounds:
    """Limits of a free-form JSON object: keys per object, key length, depth, encoded bytes."""

    keys: int
    key_length: int
    depth: int
    size: int

    def problem(self, value: Any) -> str | None:
        """Why ``value`` is not an object within these bounds, or ``None``."""
        if not isinstance(value, dict):
            return "must be an object"
        stack: list[tuple[Any, int]] = [(value, 1)]
        while stack:  # iterative: the depth is what is being checked
            current, depth = stack.pop()
            if isinstance(current, dict | list) and depth > self.depth:
                return f"nested more than {self.depth} levels deep"
            if isinstance(current, dict):
                if len(current) > self.keys:
                    return f"at most {self.keys} keys in an object"
                for key, item in current.items():
                    if len(key) > self.key_length:
                        return f"keys are at most {self.key_length} characters"
                    if "\x00" in key:
                        return "must not contain NUL characters"
                    stack.append((item, depth + 1))
            elif isinstance(current, list):
                stack.extend((item, depth + 1) for item in current)
            elif isinstance(current, str) and "\x00" in current:
                return "must not contain NUL characters"
        size = len(json.dumps(value, separators=(",", ":")).encode())
        if size > self.size:
            return f"at most {self.size:,} bytes as JSON (this is {size:,})"
        return None


class BoundedObject(colander.SchemaType):
    """A free-form JSON object within :class:`ObjectBounds`, kept as sent."""

    def __init__(self, bounds: ObjectBounds) -> None:
        self.bounds = bounds

    def deserialize(self, node: colander.SchemaNode, cstruct: Any) -> Any:
        if cstruct is colander.null:
            return colander.null
        problem = self.bounds.problem(cstruct)
        if problem is not None:
            raise colander.Invalid(node, problem)
        return cstruct


class OneOf(colander.OneOf):
    """colander's ``OneOf`` whose message shows a long value cut short."""

    def __call__(self, node: colander.SchemaNode, value: Any) -> None:
        if value not in self.choices:
            # colander's own message id, so the console's wording of it still applies.
            raise colander.Invalid(
                node,
                colander._(
                    '"${val}" is not one of ${choices}',
                    mapping={
                        "val": value if len(str(value)) <= 40 else str(value)[:39] + "…",
                        "choices": ", ".join(str(choice) for choice in self.choices),
                    },
                ),
            )


MAX_SHOWN_KEYS = 5
MAX_SHOWN_KEY_LENGTH = 40


def _shown_key(key: Any) -> str:
    text = str(key)
    return text if len(text) <= MAX_SHOWN_KEY_LENGTH else text[: MAX_SHOWN_KEY_LENGTH - 1] + "…"


class StrictMapping(colander.Mapping):
    """A JSON object that refuses keys its schema does not declare, naming them (never their
    values: colander's own message quotes every value, so a 31 MB body came back in the 400)."""

    def __init__(self) -> None:
        super().__init__(unknown="raise")

    def _validate(self, node: colander.SchemaNode, value: Any) -> dict[Any, Any]:
        if not isinstance(value, dict):
            raise colander.Invalid(node, f"{shown(value)} is not an object")
        return dict(value)

    def deserialize(self, node: colander.SchemaNode, cstruct: Any) -> Any:
        if cstruct is colander.null:
            return super().deserialize(node, cstruct)
        value = self._validate(node, cstruct)
        known = {child.name for child in node.children}
        unknown = [key for key in value if key not in known]
        if unknown:
            names = ", ".join(repr(_shown_key(key)) for key in unknown[:MAX_SHOWN_KEYS])
            more = len(unknown) - MAX_SHOWN_KEYS
            extra = f" and {more} more" if more > 0 else ""
            plural = "s" if len(unknown) > 1 else ""
            raise colander.Invalid(node, f"Unknown field{plural}: {names}{extra}.")
        return super().deserialize(node, value)


def refuse_unknown(node: colander.SchemaNode) -> colander.SchemaNode:
    """Make a mapping node refuse keys it does not declare (a typo must not be ignored)."""
    node.typ = StrictMapping()
    return node


def strict(schema: type[colander.MappingSchema]) -> colander.MappingSchema:
    """An instance of ``schema`` that refuses unknown keys: what Cornice views take."""
    return refuse_unknown(schema())


# --- query strings ------------------------------------------------------------------------------
# A query string holds text only; these types read it as the views always have, and tell the
# OpenAPI document what a valid value is. An empty value (``?status=``) counts as absent where
# the node says ``allow_empty=True`` (colander's ``String`` does so; the document then says
# ``allowEmptyValue``).


class QueryInteger(colander.SchemaType):
    """A whole number in a query string (``?limit=20``): ASCII digits, from ``minimum`` to
    ``maximum``."""

    def __init__(self, minimum: int, maximum: int) -> None:
        self.minimum = minimum
        self.maximum = maximum

    def deserialize(self, node: colander.SchemaNode, cstruct: Any) -> Any:
        if cstruct is colander.null:
            return colander.null
        text = cstruct if isinstance(cstruct, str) else ""
        if not (text.isascii() and text.isdigit()) or not (
            self.minimum <= int(text) <= self.maximum
        ):
            raise colander.Invalid(
                node, f"{node.name} must be a whole number from {self.minimum} to {self.maximum}."
            )
        return int(text)


class QueryChoices(colander.SchemaType):
    """Some of ``choices`` in a query string: comma-separated (``?status=a,b``) or repeated
    (``?status=a&status=b``); empty parts are ignored. Deserialized to a tuple."""

    def __init__(self, choices: tuple[str, ...]) -> None:
        self.choices = choices

    def deserialize(self, node: colander.SchemaNode, cstruct: Any) -> Any:
        if cstruct is colander.null:
            return colander.null
        given = cstruct if isinstance(cstruct, list) else [cstruct]
        found: list[str] = []
        for part in ",".join(str(v) for v in given).split(","):
            part = part.strip()
            if part and part not in self.choices:
                raise colander.Invalid(
                    node, f"{node.name} must be one or more of {', '.join(self.choices)}."
                )
            if part:
                found.append(part)
        return tuple(found)


class Uuid(colander.String):
    """An id (a UUID) as text; anything else is refused."""

    def deserialize(self, node: colander.SchemaNode, cstruct: Any) -> Any:
        import uuid

        value = super().deserialize(node, cstruct)
        if value is colander.null:
            return value
        try:
            return str(uuid.UUID(value.strip()))
        except ValueError:
            raise colander.Invalid(node, f"{node.name} must be an id.") from None


#: Type converters for cornice_swagger, which looks types up exactly (PITFALLS 4).
SWAGGER_TYPES = {
    StrictInteger: "integer",
    StrictBoolean: "boolean",
    CleanString: "string",
    RawString: "string",
    IsoDate: "date",
    StrictMapping: "strict_object",
    BoundedObject: "free_object",
    QueryInteger: "query_integer",
    QueryChoices: "query_choices",
    Uuid: "uuid",
}
