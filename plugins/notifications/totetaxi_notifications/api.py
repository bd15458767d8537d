"""``GET /me/notifications``: the emails sent to the signed-in customer (API.md)."""

from __future__ import annotations

from typing import Any

from cornice import Service
from cornice.validators import colander_validator
from pyramid.config import Configurator
from pyramid.request import Request
from sqlalchemy import select

from totetaxi_core.plugin_api import (
    API_PREFIX,
    Permission,
    answers,
    keyset_page,
    page_of,
    signed_in_customer,
)

from . import services
from .models import Notification
from .schemas import MY_NOTIFICATIONS_QUERY, NotificationOut

mine = Service(
    name="my_notifications", path=API_PREFIX + "/me/notifications", description="Emails sent to me"
)


@mine.get(
    schema=MY_NOTIFICATIONS_QUERY,
    validators=(colander_validator,),
    permission=Permission.CUSTOMER_SELF,
    response_schemas=answers(200, page_of(NotificationOut()), "The emails, newest first."),
)
def my_notifications_view(request: Request) -> dict[str, Any]:
    """The customer's emails, newest first, in keyset pages (``limit``, ``cursor``);
    ``?status=sent`` narrows them. Only the customer's own: nobody else's appear."""
    customer = signed_in_customer(request)
    statement = select(Notification).where(Notification.customer_id == customer.id)
    status = request.validated["querystring"]["status"]
    if status is not None:
        statement = statement.where(Notification.status == status)
    return keyset_page(
        request, request.dbsession, statement, Notification, services.notification_json
    )


def includeme(config: Configurator) -> None:
    config.scan(__name__)
