"""The OpenAPI (Swagger 2.0) document, generated from the Cornice services' schemas."""

from __future__ import annotations

from typing import Any

from cornice.service import get_services
from cornice_swagger import CorniceSwagger
from cornice_swagger.converters.schema import TypeConverter
from pyramid.request import Request

from ..version import __version__
from .schemas import SWAGGER_TYPES


def _converter(swagger_type: str) -> type[TypeConverter]:
    return type(f"{swagger_type.title()}Converter", (TypeConverter,), {"type": swagger_type})


class TotetaxiSwagger(CorniceSwagger):
    """CorniceSwagger that understands the strict colander types of :mod:`.schemas`."""

    custom_type_converters = {cls: _converter(kind) for cls, kind in SWAGGER_TYPES.items()}


def openapi_document(request: Request) -> dict[str, Any]:
    """Every Cornice service of this app as a Swagger 2.0 document."""
    generator = TotetaxiSwagger(get_services())
    generator.summary_docstrings = True
    return generator.generate(title="ToteTaxi API", version=__version__, base_path="/")
