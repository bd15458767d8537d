"""Colander schemas of the mock gateway's own routes."""

from __future__ import annotations

import colander

from totetaxi_core.plugin_api import CleanString, StrictBoolean


class ConfirmBody(colander.MappingSchema):
    payment_id = colander.SchemaNode(CleanString(), missing=None)
    setup_intent_id = colander.SchemaNode(CleanString(), missing=None)
    card_number = colander.SchemaNode(CleanString(), validator=colander.Length(max=30))


class AuthenticateBody(colander.MappingSchema):
    payment_id = colander.SchemaNode(CleanString())
    succeed = colander.SchemaNode(StrictBoolean(), missing=True)
