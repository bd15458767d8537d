"""Colander schemas of the mock gateway's own routes."""

from __future__ import annotations

import colander

from totetaxi_core.plugin_api import CleanString, StrictBoolean, text


class ConfirmBody(colander.MappingSchema):
    payment_id = colander.SchemaNode(CleanString(), missing=None)
    setup_intent_id = colander.SchemaNode(CleanString(), missing=None)
    card_number = colander.SchemaNode(CleanString(), validator=colander.Length(max=30))


class AuthenticateBody(colander.MappingSchema):
    payment_id = colander.SchemaNode(CleanString())
    succeed = colander.SchemaNode(StrictBoolean(), missing=True)


class ConfirmOut(colander.MappingSchema):
    """Where the payment (``payment_id``) or the saved card (``setup_intent_id``) stands."""

    payment_id = text(missing=colander.drop)
    setup_intent_id = text(missing=colander.drop)
    status = text()
    failure_code = text(null=True, missing=colander.drop)
    failure_message = text(null=True, missing=colander.drop)


class AuthenticateOut(colander.MappingSchema):
    """Where the payment stands after the challenge."""

    payment_id = text()
    status = text()
