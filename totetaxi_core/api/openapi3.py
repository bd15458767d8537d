"""Swagger 2.0 (what cornice_swagger writes) turned into OpenAPI 3.1 (what clients read).

cornice_swagger only writes 2.0, and its ``openapi_spec=3`` switch changes the version string
and nothing else (PITFALLS 13), so the conversion is done here, deliberately, on the finished
2.0 document of :mod:`.openapi`:

* ``definitions`` → ``components.schemas`` (every ``$ref`` rewritten); request bodies with a
  title are named there too (``QuoteBody``), so a generated client has one type per shape;
* a ``body`` parameter → ``requestBody``; other parameters keep their own keys and put the
  JSON-schema ones under ``schema``; ``collectionFormat: csv`` → ``style: form, explode: false``;
* ``produces`` / ``consumes`` → the ``content`` of each answer and of the request body; a
  response's headers get a ``schema``;
* ``x-nullable: true`` → a type list with ``"null"`` (JSON Schema 2020-12, as 3.1 is);
* a schema's ``example`` → ``examples: [...]``, and a body's example also becomes its media
  type's ``example`` (what Swagger UI shows and "Try it out" fills in), as does a response's
  ``examples`` entry;
* the bearer schemes (``apiKey`` in ``Authorization``) → ``http`` / ``bearer``.

The function is pure (a dict in, a new dict out) and knows nothing of Cornice.
"""

from __future__ import annotations

import copy
import re
from typing import Any

OPENAPI_VERSION = "3.1.0"
JSON = "application/json"
#: The 2.0 parameter keys that stay on the 3.1 parameter; every other key describes its value
#: and moves under ``schema``.
PARAMETER_KEYS = frozenset({"name", "in", "description", "required", "allowEmptyValue"})
_REF = re.compile(r"^#/definitions/")
_NAME = re.compile(r"[^A-Za-z0-9_]")
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def to_openapi31(swagger: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI 3.1 document equivalent to the Swagger 2.0 ``swagger``."""
    source = copy.deepcopy(swagger)
    schemas = {name: schema_31(s) for name, s in source.get("definitions", {}).items()}
    document: dict[str, Any] = {"openapi": OPENAPI_VERSION, "info": source["info"]}
    base = source.get("basePath", "/")
    if base not in ("", "/"):
        document["servers"] = [{"url": base}]
    if source.get("tags"):
        document["tags"] = source["tags"]
    paths: dict[str, Any] = {}
    for path, item in source.get("paths", {}).items():
        converted: dict[str, Any] = {}
        if item.get("parameters"):
            converted["parameters"] = [parameter_31(p) for p in item["parameters"]]
        for method in _METHODS:
            if method in item:
                converted[method] = operation_31(item[method], schemas)
        paths[path] = converted
    document["paths"] = paths
    document["components"] = {
        "schemas": schemas,
        "securitySchemes": {
            name: security_scheme_31(scheme)
            for name, scheme in source.get("securityDefinitions", {}).items()
        },
    }
    for key, value in source.items():
        if key.startswith("x-"):
            document[key] = value
    return document


def schema_31(schema: Any) -> Any:
    """One JSON schema of 2.0 as a 3.1 (JSON Schema 2020-12) schema."""
    if isinstance(schema, list):
        return [schema_31(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    converted: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "$ref":
            converted[key] = _REF.sub("#/components/schemas/", value)
        elif key in ("properties", "patternProperties", "definitions"):
            converted[key] = {name: schema_31(child) for name, child in value.items()}
        elif key in ("items", "additionalProperties", "allOf", "anyOf", "oneOf", "not"):
            converted[key] = schema_31(value)
        elif key in ("x-nullable", "collectionFormat"):
            continue
        elif key == "example":
            converted["examples"] = [value]
        else:
            converted[key] = value
    if schema.get("x-nullable"):
        kind = converted.get("type")
        if isinstance(kind, str):
            converted["type"] = [kind, "null"]
        elif "$ref" in converted:
            converted = {"anyOf": [{"$ref": converted.pop("$ref")}, {"type": "null"}], **converted}
        if "enum" in converted and None not in converted["enum"]:
            converted["enum"] = [*converted["enum"], None]
    return converted


def parameter_31(parameter: dict[str, Any]) -> dict[str, Any]:
    """A path, query or header parameter of 2.0 (never ``body``: see :func:`request_body_31`)."""
    converted = {key: value for key, value in parameter.items() if key in PARAMETER_KEYS}
    value_schema = {
        key: value
        for key, value in parameter.items()
        if key not in PARAMETER_KEYS and key != "collectionFormat"
    }
    converted["schema"] = schema_31(value_schema)
    if parameter.get("type") == "array":
        # 2.0's default collectionFormat is csv too: ``?status=a,b``.
        fmt = parameter.get("collectionFormat", "csv")
        converted["style"] = "form"
        converted["explode"] = fmt == "multi"
    if converted.get("in") != "query":
        converted.pop("allowEmptyValue", None)  # only a query parameter may say it
    return converted


def security_scheme_31(scheme: dict[str, Any]) -> dict[str, Any]:
    """A 2.0 security definition; an ``Authorization`` header key is a bearer token."""
    if (
        scheme.get("type") == "apiKey"
        and scheme.get("in") == "header"
        and scheme.get("name", "").lower() == "authorization"
    ):
        converted = {"type": "http", "scheme": "bearer"}
        if scheme.get("description"):
            converted["description"] = scheme["description"]
        return converted
    return dict(scheme)


def operation_31(operation: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    """One operation: parameters, request body and answers, with their media types."""
    produces = operation.pop("produces", None) or [JSON]
    consumes = operation.pop("consumes", None) or [JSON]
    converted: dict[str, Any] = {}
    parameters = []
    for parameter in operation.pop("parameters", []):
        if parameter.get("in") == "body":
            converted["requestBody"] = request_body_31(parameter, consumes, schemas)
        elif parameter.get("in") == "formData":  # pragma: no cover - no form views in this API
            raise ValueError("formData parameters are not converted: describe a JSON body")
        else:
            parameters.append(parameter_31(parameter))
    responses = {
        code: response_31(answer, produces, schemas)
        for code, answer in operation.pop("responses", {}).items()
    }
    for key, value in operation.items():
        converted[key] = value
    if parameters:
        converted["parameters"] = parameters
    converted["responses"] = responses
    # The keys in the order a reader expects them.
    order = ("tags", "summary", "description", "operationId", "parameters", "requestBody")
    return {
        **{key: converted[key] for key in order if key in converted},
        **{key: value for key, value in converted.items() if key not in order},
    }


def request_body_31(
    parameter: dict[str, Any], consumes: list[str], schemas: dict[str, Any]
) -> dict[str, Any]:
    """A 2.0 ``body`` parameter as a ``requestBody``, its schema named in ``components``."""
    schema = _named(schema_31(parameter["schema"]), schemas)
    body: dict[str, Any] = {"required": bool(parameter.get("required"))}
    if parameter.get("description"):
        body["description"] = parameter["description"]
    body["content"] = {media: _media(schema, schemas) for media in consumes}
    return body


def response_31(
    answer: dict[str, Any], produces: list[str], schemas: dict[str, Any]
) -> dict[str, Any]:
    """A 2.0 response: its schema under each media type the operation produces."""
    converted: dict[str, Any] = {"description": answer.get("description", "")}
    if answer.get("headers"):
        converted["headers"] = {
            name: _header_31(header) for name, header in answer["headers"].items()
        }
    if "schema" in answer:
        schema = schema_31(answer["schema"])
        media_types = answer.get("x-media-types") or produces
        converted["content"] = {media: _media(schema, schemas) for media in media_types}
        for media, example in answer.get("examples", {}).items():
            if media in converted["content"]:
                converted["content"][media]["example"] = example
    return converted


def _header_31(header: dict[str, Any]) -> dict[str, Any]:
    converted: dict[str, Any] = {}
    if header.get("description"):
        converted["description"] = header["description"]
    converted["schema"] = schema_31({k: v for k, v in header.items() if k != "description"})
    return converted


def _media(schema: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    media: dict[str, Any] = {"schema": schema}
    resolved = _resolve(schema, schemas)
    if resolved.get("examples"):
        media["example"] = resolved["examples"][0]
    return media


def _resolve(schema: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref", "")
    if ref.startswith("#/components/schemas/"):
        return schemas.get(ref.rsplit("/", 1)[-1], {})
    return schema


def _named(schema: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    """``schema`` as a reference to ``components.schemas[<its title>]`` when it has a title
    that names nothing else; otherwise ``schema`` as it is."""
    name = _NAME.sub("", schema.get("title", "")) if schema.get("type") == "object" else ""
    if not name:
        return schema
    known = schemas.setdefault(name, schema)
    if known != schema:
        return schema  # two bodies with one title: each stays where it is
    return {"$ref": f"#/components/schemas/{name}"}
