"""The OpenAPI 3.1 document, generated from the Cornice services of this app.

cornice_swagger writes Swagger 2.0; :func:`swagger_document` completes that document and
:func:`openapi_document` (the view of ``GET /api/v1/openapi.json``) converts it to 3.1
(:mod:`.openapi3`), tags each operation with the plugin or core domain serving it
(:mod:`.tags`) and adds the server-error answer every operation can give.

What it promises, per operation: the request (body, query and path parameters, with the
schemas' own limits; a strict body says ``additionalProperties: false``, nested objects too),
who may call it (``security``), the success answer with its body, and every error answer the
operation can give, each with the one error shape (``#/components/schemas/Error``).

Views declare their success answer and their own errors with
:func:`~totetaxi_core.api.responses.answers` (Cornice's ``response_schemas``); the errors every
operation shares are added here, from what the view is (see :func:`_shared_errors`), so no view
can forget them. A view without ``response_schemas`` keeps cornice_swagger's ``default``
answer, which ``tests/core/test_openapi_contract.py`` refuses.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from typing import Any

import colander
from cornice import Service
from cornice_swagger import CorniceSwagger
from cornice_swagger.converters.parameters import (
    ParameterConversionDispatcher,
    QueryParameterConverter,
)
from cornice_swagger.converters.schema import (
    BooleanTypeConverter,
    DateTypeConverter,
    IntegerTypeConverter,
    ObjectTypeConverter,
    StringTypeConverter,
    TypeConversionDispatcher,
    TypeConverter,
)
from cornice_swagger.swagger import ResponseHandler
from pyramid.request import Request
from pyramid.security import NO_PERMISSION_REQUIRED

from ..ops.body_guard import BODY_REQUIRED
from ..version import __version__
from .idempotency import HEADER as IDEMPOTENCY_HEADER
from .openapi3 import to_openapi31
from .responses import ERROR_MEANINGS, ERROR_SHAPE
from .schemas import SWAGGER_TYPES
from .tags import CORE_DOMAINS, Tagger

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
ERROR_REF = {"$ref": "#/definitions/Error"}

#: How a client proves who it is. Both bearer kinds travel in ``Authorization``; they are two
#: schemes so that each operation says which kind of account it needs.
SECURITY_DEFINITIONS: dict[str, Any] = {
    "customer": {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": "`Bearer <token>` from POST /api/v1/auth/token. Browsers use the "
        "session cookie from POST /api/v1/auth/login instead, and send `X-CSRF-Token` "
        "(GET /api/v1/auth/csrf) on unsafe requests.",
    },
    "staff": {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": "`Bearer <token>` from POST /api/v1/staff/auth/token (or the console's "
        "session cookie, with `X-CSRF-Token`).",
    },
    "guest": {
        "type": "apiKey",
        "in": "query",
        "name": "token",
        "description": "The `tracking_token` a guest booking was answered with.",
    },
}


#: The conventions no single operation states.
ABOUT = (
    "JSON in and out; money in integer cents, dates YYYY-MM-DD, timestamps ISO 8601 with "
    "offset. Every error answer is `{status: 'error', errors: [{location, name, "
    "description}]}` (definition `Error`). No string may hold a NUL character (400). Lists "
    "page with `limit` and the `next_cursor` of the previous page. Unsafe requests may carry "
    "`Idempotency-Key`; cookie-authenticated ones need `X-CSRF-Token`. Response objects list "
    "the fields a client may rely on; more may be added."
)


class StrictObjectConverter(ObjectTypeConverter):
    """A :class:`~.schemas.StrictMapping`: the keys it declares and no other."""

    def convert_type(self, schema_node: Any) -> dict[str, Any]:
        converted = super().convert_type(schema_node)
        converted["additionalProperties"] = False
        return converted


class FreeObjectConverter(TypeConverter):
    """A :class:`~.schemas.BoundedObject`: any keys, at most so many."""

    type = "object"

    def convert_type(self, schema_node: Any) -> dict[str, Any]:
        converted = super().convert_type(schema_node)
        converted["maxProperties"] = schema_node.typ.bounds.keys
        converted["additionalProperties"] = True
        return converted


class QueryIntegerConverter(TypeConverter):
    """A :class:`~.schemas.QueryInteger`: a whole number within its bounds."""

    type = "integer"

    def convert_type(self, schema_node: Any) -> dict[str, Any]:
        converted = super().convert_type(schema_node)
        converted["minimum"] = schema_node.typ.minimum
        converted["maximum"] = schema_node.typ.maximum
        return converted


class QueryChoicesConverter(TypeConverter):
    """A :class:`~.schemas.QueryChoices`: some of its choices, comma-separated."""

    type = "array"

    def convert_type(self, schema_node: Any) -> dict[str, Any]:
        converted = super().convert_type(schema_node)
        converted["items"] = {"type": "string", "enum": list(schema_node.typ.choices)}
        converted["collectionFormat"] = "csv"
        return converted


class UuidConverter(StringTypeConverter):
    """A :class:`~.schemas.Uuid`."""

    format = "uuid"


# The library's own converters, so validators (lengths, ranges, choices, patterns) reach the
# document too: clients and schemathesis then know what a valid request is.
_CONVERTERS = {
    "string": StringTypeConverter,
    "integer": IntegerTypeConverter,
    "boolean": BooleanTypeConverter,
    "date": DateTypeConverter,
    "strict_object": StrictObjectConverter,
    "free_object": FreeObjectConverter,
    "query_integer": QueryIntegerConverter,
    "query_choices": QueryChoicesConverter,
    "uuid": UuidConverter,
}


class Converters(TypeConversionDispatcher):
    """The library's dispatcher, plus what it cannot say: ``x-nullable`` (a field made with
    :func:`~.responses.nullable`), and no ``default: null`` (an optional field left out is not
    the same as one sent as ``null``, which the strict types refuse)."""

    def __call__(self, schema_node: colander.SchemaNode) -> dict[str, Any]:
        converted = super().__call__(schema_node)
        if getattr(schema_node, "nullable", False):
            converted["x-nullable"] = True
        if "default" in converted and converted["default"] is None:
            del converted["default"]
        if getattr(schema_node, "allow_empty", False):
            converted["allowEmptyValue"] = True  # a query parameter: ``?name=`` is absent
        example = getattr(schema_node, "example", None)
        if example is not None:
            converted["example"] = example
        return converted


class QueryParameter(QueryParameterConverter):
    """The library's query parameter, keeping an array's ``items`` whole (it keeps only their
    type, losing the choices)."""

    def convert(self, schema_node: colander.SchemaNode, definition_handler: Any) -> dict[str, Any]:
        converted = super().convert(schema_node, definition_handler)
        if converted.get("type") == "array":
            converted["items"] = definition_handler(schema_node)["items"]
        return converted


class Parameters(ParameterConversionDispatcher):
    """The library's parameter converters, with :class:`QueryParameter`."""

    converters = {
        **ParameterConversionDispatcher.converters,
        "querystring": QueryParameter,
        "GET": QueryParameter,
    }


class Answers(ResponseHandler):
    """cornice_swagger's response handler, keeping the body's own title (the library renames
    it after the schema's class, which says nothing for a :func:`~.responses.page_of`)."""

    def from_schema_mapping(self, schema_mapping: dict[str, Any]) -> dict[str, Any]:
        responses: dict[str, Any] = {}
        for status, answer in schema_mapping.items():
            response: dict[str, Any] = {"description": answer.description}
            for child in answer.children:
                if child.name == "body":
                    response["schema"] = self.definitions.from_schema(child)
            media_type = getattr(answer, "media_type", None)
            if media_type:
                response["x-media-types"] = [media_type]  # read by .openapi3
            example = getattr(answer, "example", None)
            if example is not None:
                response["examples"] = {media_type or "application/json": example}
            responses[str(status)] = response
        return responses


class TotetaxiSwagger(CorniceSwagger):
    """CorniceSwagger that understands the strict colander types of :mod:`.schemas`."""

    type_converter = Converters
    parameter_converter = Parameters
    responses = Answers
    custom_type_converters = {cls: _CONVERTERS[kind] for cls, kind in SWAGGER_TYPES.items()}
    summary_docstrings = True


#: What any operation may answer when the fault is the server's (``errors.py``).
SERVER_ERROR: dict[str, Any] = {
    "description": "Our fault: 500 with a request id to quote to support, or 503 (busy, or a "
    "dependency is down) with `Retry-After`. The body has the one error shape.",
    "headers": {"Retry-After": {"schema": {"type": "integer", "minimum": 0}}},
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}


def openapi_document(request: Request) -> dict[str, Any]:
    """Every Cornice service of this app as an OpenAPI 3.1 document.

    The services are this app's (its registry's), not every one imported in the process: a
    plugin that is installed but not enabled serves nothing, so it documents nothing.
    """
    tagger = Tagger(request.registry.platform.enabled)
    document = to_openapi31(swagger_document(request, tagger))
    used = {tag for _, _, operation in _operations_of(document) for tag in operation["tags"]}
    plugins = used & {p.name for p in tagger.plugins}
    core = [name for name in CORE_DOMAINS if name in used] + sorted(
        used - plugins - set(CORE_DOMAINS)
    )
    order = core + sorted(plugins)
    document["tags"] = [tagger.describe(name) for name in order]
    for _, _, operation in _operations_of(document):
        operation["responses"]["5XX"] = copy.deepcopy(SERVER_ERROR)
    return document


def _operations_of(document: dict[str, Any]) -> Iterable[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method != "parameters":
                yield path, method, operation


def _operation_id(service: Service, method: str) -> str:
    # Cornice service names are unique in an app, so this is too: ``post_bookings_api``.
    return f"{method.lower()}_{_NAME.sub('_', service.name)}"


def swagger_document(request: Request, tagger: Tagger | None = None) -> dict[str, Any]:
    """Every Cornice service of this app as a Swagger 2.0 document (before conversion)."""
    services = list(request.registry.cornice_services.values())
    generator = TotetaxiSwagger(services)
    generator.default_tags = tagger or Tagger(request.registry.platform.enabled)
    generator.default_op_ids = _operation_id
    document = generator.generate(
        title="ToteTaxi API", version=__version__, base_path="/", info={"description": ABOUT}
    )
    document["securityDefinitions"] = SECURITY_DEFINITIONS
    document.setdefault("definitions", {})["Error"] = ERROR_SHAPE
    any_body = getattr(request.registry, "any_body_paths", set())
    for service in services:
        for method, _view, args in service.definitions:
            operation = document["paths"].get(service.path, {}).get(method.lower())
            if operation is not None:
                complete_operation(operation, service, method, args, service.path in any_body)
    for path, item in document["paths"].items():
        _declare_path_parameters(path, item)
    _name_bodies(document)
    return document


_PATH_PARAMETER = re.compile(r"\{([^}/]+)\}")


def _declare_path_parameters(path: str, item: dict[str, Any]) -> None:
    """Declare every ``{name}`` of ``path``: cornice_swagger sees only whole segments, so the
    ``{name}`` of ``/reports/{name}.csv`` went undeclared (an invalid document)."""
    declared = {p["name"] for p in item.get("parameters", []) if p.get("in") == "path"}
    for name in _PATH_PARAMETER.findall(path):
        if name not in declared:
            item.setdefault("parameters", []).append(
                {"name": name, "in": "path", "required": True, "type": "string"}
            )


# --- what every operation shares ---------------------------------------------------------------


def access_of(service: Service, args: dict[str, Any]) -> list[str]:
    """Which credentials reach the view: [] for a public one, else security scheme names."""
    permission = args.get("permission")
    if permission == NO_PERMISSION_REQUIRED:
        return []
    # A context that lets others in than its permission says (a booking: its customer, staff,
    # or a guest with its tracking token) names them itself.
    declared = getattr(getattr(service, "factory", None), "openapi_security", None)
    if declared:
        return list(declared)
    if permission == "customer.self":
        return ["customer"]
    # Any other permission is granted to staff roles (the core's and those plugins declare).
    return ["staff"]


def _shared_errors(path: str, method: str, args: dict[str, Any], access: list[str]) -> set[int]:
    """The error statuses an operation can answer whatever its view does."""
    # The input guard refuses a NUL or broken UTF-8 in any request line; schemas refuse input.
    found = {400}
    if access:
        found |= {401, 403}
    if "{" in path:
        found.add(404)
    if method in UNSAFE:
        # Cross-site Origin or a cookie without its CSRF token (403), a body over the limit
        # (413), a body that is not JSON (415).
        found |= {403, 413, 415}
        if args.get("idempotent") is not False:
            found.add(409)  # the same Idempotency-Key with another request
    return found


def complete_operation(
    operation: dict[str, Any],
    service: Service,
    method: str,
    args: dict[str, Any],
    any_body: bool = False,
) -> None:
    """Add to one operation what the generator knows and its view need not say: who may call
    it, the shared error answers, the ``Idempotency-Key`` header, what the body must be."""
    access = access_of(service, args)
    if access:
        operation["security"] = [{scheme: []} for scheme in access]
    responses = operation["responses"]
    documented = any(code.startswith("2") for code in responses)
    if documented:
        responses.pop("default", None)
    codes = _shared_errors(service.path, method, args, access)
    if any_body:
        codes.discard(415)
    for code in sorted(codes | {int(c) for c in responses if c.isdigit() and int(c) >= 400}):
        answer = responses.setdefault(str(code), {"description": ERROR_MEANINGS[code]})
        answer["schema"] = ERROR_REF
        if code in (429, 503) or (code == 409 and method in UNSAFE):
            answer["headers"] = {"Retry-After": {"type": "integer", "minimum": 0}}
        if code == 401:
            answer["headers"] = {"WWW-Authenticate": {"type": "string"}}
    for parameter in operation.get("parameters", []):
        if parameter.get("in") == "body":
            # A body must be sent when it has required fields (else ``{}`` is what an absent
            # one means), and always with a PATCH (the input guard refuses one without).
            parameter["required"] = method in BODY_REQUIRED or bool(
                parameter["schema"].get("required")
            )
    if method in UNSAFE:
        operation["consumes"] = ["*/*"] if any_body else ["application/json"]
        if args.get("idempotent") is not False:
            operation.setdefault("parameters", []).append(
                {
                    "name": IDEMPOTENCY_HEADER,
                    "in": "header",
                    "required": False,
                    "type": "string",
                    "pattern": r"^[\x21-\x7e]{1,255}$",
                    "description": "A retry with the same key and request gets the first "
                    "answer again; the same key with another request is 409.",
                }
            )
    if "guest" in access:
        operation["description"] = (
            "A guest reaches their booking with `?token=<tracking_token>`; anyone else who is "
            "not its customer or staff gets 404."
        )


# --- named bodies ------------------------------------------------------------------------------

_NAME = re.compile(r"[^A-Za-z0-9_]")


def _name_bodies(document: dict[str, Any]) -> None:
    """Move each success body into ``definitions`` under its title, so generated clients get
    one named model per shape (``Booking``, ``BookingPage``...) instead of one per operation."""
    definitions = document["definitions"]
    for operation in _operations(document):
        for code, answer in operation["responses"].items():
            schema = answer.get("schema")
            if not code.startswith("2") or not schema or "$ref" in schema:
                continue
            if schema.get("type") != "object":
                continue  # a CSV or plain-text body: a string, nothing to name
            name = _NAME.sub("", schema.get("title", ""))
            if not name:
                continue
            known = definitions.setdefault(name, schema)
            if known != schema:
                raise ValueError(
                    f"Two different response bodies are both called {name!r}: "
                    "give one of them another class name or title."
                )
            answer["schema"] = {"$ref": f"#/definitions/{name}"}


def _operations(document: dict[str, Any]) -> Iterable[dict[str, Any]]:
    for path_item in document.get("paths", {}).values():
        for key, operation in path_item.items():
            if key != "parameters":
                yield operation
