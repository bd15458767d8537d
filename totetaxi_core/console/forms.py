"""Reading console forms: parsers for typed text, one field's refusal, colander errors at fields.

A console form is plain HTML: every value arrives as text. A view reads it with the parsers here
(each takes ``(text, label)`` and returns the value or raises :class:`FieldError`, whose message
names the field by its label), or, where the API already has a colander schema for the same
change, turns the text into the API's shapes and validates with that schema, placing each error
next to its field with :func:`colander_errors`. Either way a refusal is shown at the field, the
page answers 400, and nothing is changed.

A plugin's form::

    FIELDS: Fields = {"price": ("price_cents", money_field(), "Price"),
                      "note": ("note", text_field(120, required=False), "Note")}
    values, errors, submitted = read_form(request.POST, FIELDS)
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from typing import Any

import colander

from ..money import MAX_CENTS, MoneyInputError, parse_money

__all__ = [
    "FieldError",
    "Fields",
    "Parser",
    "colander_errors",
    "control_characters",
    "field_of",
    "integer_field",
    "money_field",
    "optional",
    "parse_date",
    "parse_flag",
    "read_form",
    "text_field",
]

#: A parser: ``(text as typed, the field's label) -> value``, or :class:`FieldError`.
Parser = Callable[[str, str], Any]
#: A form's fields: form name -> (attribute, parser, label).
Fields = Mapping[str, tuple[str, Parser, str]]

# Every C0 control and DEL; a multi-line field keeps tab, newline and carriage return. NUL is in
# both: PostgreSQL cannot store it (PITFALLS 5).
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_MULTILINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_INTEGER = re.compile(r"^[0-9]+$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_MAX_INPUT = 40  # characters of a number or date field; anything longer is not one


class FieldError(ValueError):
    """One form field's refusal; the message names the field by its label."""


def control_characters(value: str, *, multiline: bool = False) -> bool:
    """Whether ``value`` holds a control character a console field refuses.

    One-line fields (names, subjects, filters) refuse every control character (a newline in a
    subject would end the mail header); ``multiline`` fields (notes, bodies) keep tabs and line
    breaks.
    """
    return (_CONTROL_MULTILINE if multiline else _CONTROL).search(value) is not None


def text_field(
    limit: int, required: bool = True, *, minimum: int = 0, multiline: bool = False
) -> Parser:
    """A parser of free text: trimmed, at most ``limit`` characters, no control characters."""

    def parse(value: str, label: str) -> str:
        value = value.strip()
        if required and not value:
            raise FieldError(f"{label}: this cannot be empty.")
        if minimum and len(value) < minimum:
            raise FieldError(f"{label}: at least {minimum} characters.")
        if len(value) > limit:
            raise FieldError(f"{label}: at most {limit} characters.")
        if control_characters(value, multiline=multiline):
            raise FieldError(f"{label}: control characters are not allowed.")
        return value

    return parse


def integer_field(low: int, high: int) -> Parser:
    """A parser of a whole number from ``low`` to ``high`` (ASCII digits only)."""

    def parse(value: str, label: str) -> int:
        value = value.strip()
        if value.startswith("-"):
            raise FieldError(f"{label} must not be negative.")
        if not _INTEGER.match(value) or len(value) > _MAX_INPUT:
            raise FieldError(f"{label}: enter a whole number from {low} to {high}.")
        number = int(value)
        if not low <= number <= high:
            raise FieldError(f"{label}: enter a whole number from {low} to {high}.")
        return number

    return parse


def money_field(minimum: int = 0, maximum: int = MAX_CENTS) -> Parser:
    """A parser of dollars as typed into integer cents (:func:`totetaxi_core.money.parse_money`)."""

    def parse(value: str, label: str) -> int:
        try:
            return parse_money(value, label, minimum=minimum, maximum=maximum)
        except MoneyInputError as exc:
            raise FieldError(str(exc)) from None

    return parse


def optional(parse: Parser) -> Parser:
    """``parse``, except that an empty field means ``None`` (back to the default)."""

    def read(value: str, label: str) -> Any:
        return None if not value.strip() else parse(value, label)

    return read


def parse_flag(value: str, label: str) -> bool:
    """A yes/no field (a select or a checkbox): ``1``/``true``/``on``/``yes`` or the opposites."""
    value = value.strip().lower()
    if value in ("1", "true", "on", "yes"):
        return True
    if value in ("0", "false", "off", "no"):
        return False
    raise FieldError(f"{label}: choose yes or no.")


def parse_date(value: str, label: str) -> dt.date:
    """A calendar date typed ``YYYY-MM-DD``."""
    value = value.strip()
    try:
        if not _DATE.match(value):
            raise ValueError(value)
        return dt.date.fromisoformat(value)
    except ValueError:
        raise FieldError(f"{label}: enter a date as YYYY-MM-DD.") from None


def read_form(
    post: Mapping[str, str], fields: Fields, *, partial: bool = False
) -> tuple[dict[str, Any], dict[str, str], dict[str, str]]:
    """``(values by attribute, errors by field, submitted text by field)``.

    With ``partial`` a field left out of the POST is left unchanged (a script may send only the
    price); a field the page shows is always sent by the browser, even empty.
    """
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    submitted: dict[str, str] = {}
    for name, (attribute, parse, label) in fields.items():
        raw = post.get(name)
        if raw is None:
            if partial:
                continue
            raw = ""
        submitted[name] = raw
        try:
            values[attribute] = parse(raw, label)
        except FieldError as exc:
            errors[name] = str(exc)
    return values, errors, submitted


def field_of(fields: Fields, attribute: str) -> str:
    """The form field showing ``attribute`` (to place a service's refusal next to it)."""
    return next((name for name, spec in fields.items() if spec[0] == attribute), attribute)


# colander's own sentences are written for API clients; a console field says the same in the
# console's words. Keyed by the untranslated message colander raises.
_PLAIN: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "Required": lambda m: "this cannot be empty.",
    "Shorter than minimum length ${min}": lambda m: (
        "this cannot be empty." if m.get("min") == 1 else f"at least {m.get('min')} characters."
    ),
    "Longer than maximum length ${max}": lambda m: f"at most {m.get('max')} characters.",
    "${val} is less than minimum value ${min}": lambda m: f"at least {m.get('min')}.",
    "${val} is greater than maximum value ${max}": lambda m: f"at most {m.get('max')}.",
    '"${val}" is not one of ${choices}': lambda m: f"choose one of {m.get('choices')}.",
}


def _sentence(message: Any) -> str:
    default = getattr(message, "default", None)
    mapping = getattr(message, "mapping", None) or {}
    if isinstance(default, str) and default in _PLAIN:
        return _PLAIN[default](mapping)
    text_ = str(colander.interpolate([message])[0]) if mapping else str(message)
    return text_ if text_.endswith(".") else text_ + "."


def colander_errors(
    invalid: colander.Invalid, fields: Mapping[str, str], labels: Mapping[str, str]
) -> dict[str, str]:
    """A schema's refusal as console messages by form field: ``{field: "Label: sentence."}``.

    ``fields`` maps the schema's dotted paths (``"pickup_address.line1"``) to form field names;
    ``labels`` gives each form field's label. An error on a path no field shows goes to ``""``
    (the form as a whole). Several errors for one field are joined.
    """
    errors: dict[str, str] = {}
    for path, problem in _leaves(invalid):
        field = fields.get(path, fields.get(path.split(".")[0], ""))
        label = labels.get(field, "")
        message = f"{label}: {_sentence(problem)}" if label else _sentence(problem)
        errors[field] = f"{errors[field]} {message}" if field in errors else message
    return errors


def _leaves(invalid: colander.Invalid, prefix: str = "") -> list[tuple[str, Any]]:
    """Every (dotted path, message) of ``invalid``: colander nests one per mapping level."""
    name = invalid.node.name if invalid.node is not None else ""
    path = f"{prefix}.{name}" if prefix and name else (name or prefix)
    found: list[tuple[str, Any]] = []
    if invalid.msg is not None:
        found.append((path, invalid.msg))
    for child in invalid.children:
        found.extend(_leaves(child, path))
    return found
