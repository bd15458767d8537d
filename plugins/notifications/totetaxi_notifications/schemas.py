"""Colander schemas of the notifications API."""

from __future__ import annotations

import colander

from totetaxi_core.plugin_api import OneOf, moment, page_query, text

from .models import NotificationStatus

#: ``GET /me/notifications``: ``?status=`` narrows the list (exactly a status: no trimming, no
#: lists; empty is no filter); ``limit`` and ``cursor`` as every list of the core.
MY_NOTIFICATIONS_QUERY = page_query(
    status=colander.SchemaNode(
        colander.String(),
        validator=OneOf([s.value for s in NotificationStatus]),
        missing=None,
        allow_empty=True,
    )
)


class NotificationOut(colander.MappingSchema):
    """An email sent (or being sent) to the customer."""

    id = text()
    template = text()
    recipient = text()
    status = text()
    subject = text()
    text_body = text()
    booking_id = text(null=True)
    booking_number = text(null=True)
    created_at = moment()
    sent_at = moment(null=True)
