"""Colander schemas of the logistics API: bodies, query strings and answers."""

from __future__ import annotations

import colander
from totetaxi_core.plugin_api import (
    CleanString,
    IsoDate,
    OneOf,
    flag,
    listing,
    moment,
    nullable,
    page_query,
    text,
    whole,
)

WINDOWS = ("morning", "afternoon")


class FailBody(colander.MappingSchema):
    reason = colander.SchemaNode(CleanString(), validator=colander.Length(min=3, max=500))


class RescheduleBody(colander.MappingSchema):
    date = colander.SchemaNode(IsoDate())
    time_window = colander.SchemaNode(CleanString(), validator=OneOf(WINDOWS))


class AssignBody(colander.MappingSchema):
    """``driver_id`` is one of our drivers' ids; ``null`` unassigns."""

    driver_id = colander.SchemaNode(CleanString(), missing=None)


TASKS_QUERY = page_query(
    date=colander.SchemaNode(IsoDate(), missing=colander.drop),
    status=colander.SchemaNode(
        CleanString(),
        validator=OneOf(("created", "assigned", "in_progress", "completed", "failed", "cancelled")),
        missing=colander.drop,
    ),
)


class DriverRef(colander.MappingSchema):
    first_name = text(missing=colander.drop)
    id = text(missing=colander.drop)
    name = text(missing=colander.drop)
    phone = text(missing=colander.drop)


class Position(colander.MappingSchema):
    latitude = colander.SchemaNode(colander.Float())
    longitude = colander.SchemaNode(colander.Float())
    at = moment(null=True, missing=colander.drop)


class Proof(colander.MappingSchema):
    photo = text(null=True)
    signature = text(null=True)
    notes = text(null=True)


class DeliveryTaskOut(colander.MappingSchema):
    """A delivery task (staff also get provider ids, holds and failure reasons)."""

    id = text()
    kind = text(validator=colander.OneOf(("pickup", "dropoff")))
    attempt = whole()
    status = text()
    complete_after = moment()
    complete_before = moment()
    driver = nullable(DriverRef())
    eta = moment(null=True)
    driver_position = nullable(Position())
    tracking_url = text(null=True)
    started_at = moment(null=True)
    completed_at = moment(null=True)
    proof_of_delivery = nullable(Proof())
    held = flag()


class TimelineEntry(colander.MappingSchema):
    at = moment()
    task_id = text()
    kind = text()
    status = text()
    message = text()
    eta = moment(null=True)


class DeliveryTrackingOut(colander.MappingSchema):
    """A booking's delivery: its current tasks and the timeline."""

    booking_id = text()
    number = text()
    status = text()
    tasks = listing(DeliveryTaskOut())
    timeline = listing(TimelineEntry())


class BoardDeliveryTaskOut(DeliveryTaskOut):
    booking_id = text()
    booking_number = text()


class DispatcherWebhookOut(colander.MappingSchema):
    received = whole()
    applied = whole()
