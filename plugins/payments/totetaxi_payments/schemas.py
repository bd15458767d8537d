"""Bodies of the payments API."""

from __future__ import annotations

import colander

from totetaxi_core.plugin_api import CleanString, StrictBoolean, StrictInteger


class PayBody(colander.MappingSchema):
    """``POST /bookings/{id}/payments``: the amount is the booking's; none is accepted."""

    payment_method_id = colander.SchemaNode(CleanString(), missing=None)
    save_method = colander.SchemaNode(StrictBoolean(), missing=False)


class RefundBody(colander.MappingSchema):
    payment_id = colander.SchemaNode(CleanString())
    amount_cents = colander.SchemaNode(
        StrictInteger(),
        validator=colander.Range(1, 10_000_000, min_err="amount_cents must be at least 1 cent."),
    )
    reason = colander.SchemaNode(CleanString(), validator=colander.Length(min=3, max=500))


class DecisionBody(colander.MappingSchema):
    note = colander.SchemaNode(CleanString(), validator=colander.Length(max=500), missing="")


class ApproveBody(DecisionBody):
    """Approve a refund; ``amount_cents`` below the request approves less (``note`` says why)."""

    amount_cents = colander.SchemaNode(
        StrictInteger(), validator=colander.Range(1, 10_000_000), missing=None
    )
