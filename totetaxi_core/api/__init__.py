"""The REST API under ``/api/v1``: Cornice, one error shape, the OpenAPI document (and its
Swagger UI at ``/api/v1/docs``).

A plugin declares Cornice services with paths under :data:`API_PREFIX` and strict schemas from
:mod:`totetaxi_core.api.schemas`; ``config.scan()`` of its ``api`` module registers them.
"""

from __future__ import annotations

from pyramid.config import Configurator
from pyramid.security import NO_PERMISSION_REQUIRED

from ..ops.body_guard import body_required_view
from .errors import API_PREFIX, error_body, json_error, no_content
from .openapi import openapi_document

__all__ = ["API_PREFIX", "error_body", "json_error", "no_content", "openapi_document"]


def includeme(config: Configurator) -> None:
    # Our own exception views give every API error Cornice's body; Cornice's catch-all
    # Exception view would conflict with them.
    config.get_settings()["handle_exceptions"] = False
    config.include("cornice")
    config.include("cornice_swagger")
    config.include(".errors")
    config.include(".idempotency")
    config.add_view_deriver(body_required_view, name="body_required")
    config.add_route("openapi", API_PREFIX + "/openapi.json")
    config.add_view(
        openapi_document,
        route_name="openapi",
        renderer="json",
        request_method="GET",
        permission=NO_PERMISSION_REQUIRED,
    )
    config.include(".docs_page")
