"""The OpenAPI (Swagger 2.0) document, generated from the Cornice services' schemas."""

from __future__ import annotations

from typing import Any

from cornice.service import get_services
from cornice_swagger import CorniceSwagger
from cornice_swagger.converters.schema import (
    BooleanTypeConverter,
    DateTypeConverter,
    IntegerTypeConverter,
    ObjectTypeConverter,
    StringTypeConverter,
    TypeConverter,
)
from pyramid.request import Request

from ..version import __version__
from .schemas import SWAGGER_TYPES


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


# The library's own converters, so validators (lengths, ranges, choices, patterns) reach the
# document too: clients and schemathesis then know what a valid request is.
_CONVERTERS = {
    "string": StringTypeConverter,
    "integer": IntegerTypeConverter,
    "boolean": BooleanTypeConverter,
    "date": DateTypeConverter,
    "strict_object": StrictObjectConverter,
    "free_object": FreeObjectConverter,
}


class TotetaxiSwagger(CorniceSwagger):
    """CorniceSwagger that understands the strict colander types of :mod:`.schemas`."""

    custom_type_converters = {cls: _CONVERTERS[kind] for cls, kind in SWAGGER_TYPES.items()}


def openapi_document(request: Request) -> dict[str, Any]:
    """Every Cornice service of this app as a Swagger 2.0 document."""
    generator = TotetaxiSwagger(get_services())
    generator.summary_docstrings = True
    return generator.generate(title="ToteTaxi API", version=__version__, base_path="/")
