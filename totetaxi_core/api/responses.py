"""What an API operation answers, declared on its view for the OpenAPI document.

A view says what it answers on success, and which error answers are its own, with
:func:`answers`, whose result goes into Cornice's ``response_schemas`` view option (the one
cornice_swagger reads)::

    @quotes.post(
        schema=strict_quote_body(),
        validators=(colander_body_validator,),
        permission=NO_PERMISSION_REQUIRED,
        response_schemas=answers(200, QuoteOut(), "The price breakdown", errors={422: "..."}),
    )

The body is a colander schema written with the field makers below (``text``, ``whole``,
``flag``, ``moment``, ``day``, ``free``, ``listing``, ``page_of``, ``nullable``). Response objects
are *open*: they list the fields a client may rely on, and more may be added (API.md), so they
never say ``additionalProperties: false``. Every field is required unless made with
``missing=colander.drop`` (present only sometimes).

The error answers every operation shares are added by the document's generator
(:mod:`.openapi`) from what the view is: 400 for any operation (the input guard and the
schemas), 401 and 403 when it needs a permission, 403, 413 and 415 for unsafe methods, 404 when
the path has parameters, 409 where ``Idempotency-Key`` is honoured. A view lists only the others
(a full day's 409, a rule's 422, a throttle's 429, a gateway's 503). Each error answer has the
one error shape, the document's ``Error`` definition (:data:`ERROR_SHAPE`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import colander

#: What each error status means in this API (API.md); the description of its answer.
ERROR_MEANINGS: dict[int, str] = {
    400: "Bad input: the error names the body field, parameter or header at fault.",
    401: "Not signed in (session cookie or `Authorization: Bearer`).",
    403: "Signed in but not allowed; or a cross-site request, or a cookie request without "
    "its X-CSRF-Token.",
    404: "Nothing is there, or it is not the caller's (the same answer).",
    409: "A conflict with the current state (named in the error).",
    413: "The body is larger than the server accepts (1 MB by default).",
    415: "The body is not `application/json`.",
    422: "A business rule refused the request (every problem is listed).",
    429: "Too many attempts: wait for `Retry-After` seconds.",
    503: "Temporarily unavailable: retry after `Retry-After` seconds.",
}

#: The one error body of the API (Cornice's), as a JSON schema: the ``Error`` definition.
ERROR_SHAPE: dict[str, Any] = {
    "type": "object",
    "title": "Error",
    "required": ["status", "errors"],
    "properties": {
        "status": {"type": "string", "enum": ["error"]},
        "errors": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["location", "name", "description"],
                "properties": {
                    "location": {
                        "type": "string",
                        "enum": ["body", "querystring", "path", "header"],
                        "description": "Where the problem is.",
                    },
                    "name": {
                        "type": "string",
                        "description": "The field, parameter or header at fault.",
                    },
                    "description": {"type": "string", "description": "A sentence for people."},
                },
            },
        },
    },
}


# --- field makers ------------------------------------------------------------------------------


def nullable(node: colander.SchemaNode) -> colander.SchemaNode:
    """Let ``node`` be ``null`` as well (in the document: a type list with ``"null"``)."""
    node.nullable = True
    return node


def _field(kind: colander.SchemaType, null: bool, **kw: Any) -> colander.SchemaNode:
    node = colander.SchemaNode(kind, **kw)
    return nullable(node) if null else node


def text(*, null: bool = False, **kw: Any) -> colander.SchemaNode:
    """A string (``null`` too when ``null``); ``validator=OneOf(...)`` documents an enum."""
    return _field(colander.String(), null, **kw)


def whole(*, null: bool = False, **kw: Any) -> colander.SchemaNode:
    """An integer (cents, counts)."""
    return _field(colander.Integer(), null, **kw)


def flag(*, null: bool = False, **kw: Any) -> colander.SchemaNode:
    """A boolean."""
    return _field(colander.Boolean(), null, **kw)


def moment(*, null: bool = False, **kw: Any) -> colander.SchemaNode:
    """A timestamp, ISO 8601 with its offset (``format: date-time``)."""
    return _field(colander.DateTime(), null, **kw)


def day(*, null: bool = False, **kw: Any) -> colander.SchemaNode:
    """A calendar date ``YYYY-MM-DD`` (``format: date``)."""
    return _field(colander.Date(), null, **kw)


def free(*, null: bool = False, **kw: Any) -> colander.SchemaNode:
    """An object with any keys (a quote kept as it was, free-form preferences)."""
    return _field(colander.Mapping(unknown="preserve"), null, **kw)


def listing(item: colander.SchemaNode, **kw: Any) -> colander.SchemaNode:
    """An array of ``item``."""
    return colander.SchemaNode(colander.Sequence(), item, **kw)


def page_of(item: colander.SchemaNode, title: str | None = None) -> colander.SchemaNode:
    """A page of a paginated list (API.md): ``{"items": [item], "next_cursor": str | null}``."""
    node = colander.SchemaNode(
        colander.Mapping(),
        listing(item, name="items"),
        text(null=True, name="next_cursor", description="Pass as ?cursor= for the next page."),
        title=title or f"{item.title or type(item).__name__}Page",
    )
    return node


# --- answers -----------------------------------------------------------------------------------


class _Answer(colander.MappingSchema):
    """One response of cornice_swagger's ``response_schemas``: a description and a ``body``."""


def _answer(
    description: str,
    body: colander.SchemaNode | None,
    media_type: str | None = None,
    example: Any = None,
) -> colander.SchemaNode:
    answer = _Answer(description=description)
    answer.media_type = media_type
    answer.example = example
    if body is not None:
        body = body.clone()
        body.name = "body"
        if not body.title or body.title == "Body":
            body.title = type(body).__name__
        answer.add(body)
    return answer


def answers(
    status: int,
    body: colander.SchemaNode | None = None,
    description: str = "",
    *,
    errors: Mapping[int, str] | Iterable[int] = (),
    media_type: str | None = None,
    example: Any = None,
) -> dict[str, colander.SchemaNode]:
    """The ``response_schemas`` of a view: its success ``status`` (with ``body``, or none for
    204) and the error answers that are its own (``{status: why}``, or statuses with the
    meaning of :data:`ERROR_MEANINGS`).

    ``media_type`` names the success body's type when it is not JSON (``"text/csv"``, with a
    ``text()`` body). ``example`` is a success body the document shows (and Swagger UI with
    it); it must match ``body``, which the suite checks. A request body's example is its
    schema's ``example`` attribute (``class QuoteBody(...): example = {...}``).

    The error answers every operation shares (see the module) are added by the generator.
    """
    if not 200 <= status < 300:
        raise ValueError(f"the success status of an operation is a 2xx, not {status}")
    if (status == 204) != (body is None):
        raise ValueError("a 204 answer has no body, and every other success answer has one")
    documented = {str(status): _answer(description or "Success.", body, media_type, example)}
    reasons = errors if isinstance(errors, Mapping) else {code: "" for code in errors}
    for code, why in reasons.items():
        if code not in ERROR_MEANINGS:
            raise ValueError(
                f"{code} is not an error status of this API ({sorted(ERROR_MEANINGS)})"
            )
        documented[str(code)] = _answer(why or ERROR_MEANINGS[code], None)
    return documented
