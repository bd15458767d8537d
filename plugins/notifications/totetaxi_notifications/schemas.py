"""Colander schemas of the notifications API."""

from __future__ import annotations

import colander

from totetaxi_core.plugin_api import OneOf

from .models import NotificationStatus


class MyNotificationsQuery(colander.MappingSchema):
    """``GET /me/notifications``: ``?status=`` narrows the list (exactly a status: no trimming,
    no lists); ``limit`` and ``cursor`` are read by the core's keyset pages."""

    status = colander.SchemaNode(
        colander.String(),
        validator=OneOf([s.value for s in NotificationStatus]),
        missing=None,
    )
    limit = colander.SchemaNode(colander.String(), missing=colander.drop)
    cursor = colander.SchemaNode(colander.String(), missing=colander.drop)


class MyNotificationsRequest(colander.MappingSchema):
    querystring = MyNotificationsQuery()
