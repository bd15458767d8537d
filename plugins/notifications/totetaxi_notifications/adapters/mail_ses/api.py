"""``POST /api/v1/notifications/ses/events``: SES's events about sent mail, by way of SNS.

SES publishes bounces, complaints and deliveries to an SNS topic (identity notifications, with
``notificationType``, or a configuration set's event destination, with ``eventType``); SNS posts
each to this endpoint, signed. What happens to a message, in order:

1. ``mail_ses.topic_arns`` empty: 403, every message (the endpoint is not set up).
2. The body is parsed (SNS sends JSON as ``text/plain``); a malformed body or a missing field is
   400 naming the field.
3. A ``TopicArn`` not in ``mail_ses.topic_arns``: 403. Anyone can create an SNS topic and
   subscribe this URL to it: SNS's signature alone only says that SNS delivered it.
4. The signature (:mod:`totetaxi_notifications.sns`): 400 naming the field at fault; 503 when the
   signing certificate cannot be fetched now (SNS retries).
5. The SNS MessageId is recorded once, as the ``provider_event_id`` of a
   :class:`~totetaxi_notifications.models.DeliveryLog` row: a message SNS delivers again answers
   200 ``"duplicate"`` and changes nothing.
6. ``SubscriptionConfirmation``: a background task GETs the ``SubscribeURL`` after commit (no
   network I/O in the request). ``UnsubscribeConfirmation``: logged.
   ``Notification``: the SES event is logged against the notification whose
   ``provider_message_id`` is the event's ``mail.messageId`` (when there is one); a permanent
   bounce or a complaint holds every affected address (:func:`~totetaxi_notifications.services.
   hold_address`), so later mail to it ends ``held``. Transient bounces are only logged.

The answer is ``{"received": true, "outcome": "..."}``.
"""

from __future__ import annotations

import json
import logging
import re
from email.utils import parseaddr
from typing import Any

import colander
from cornice import Service
from pyramid.config import Configurator
from pyramid.request import Request
from pyramid.response import Response
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid_retry import mark_error_retryable
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from totetaxi_core.plugin_api import (
    API_PREFIX,
    Context,
    answers,
    count_webhook_failure,
    find_service,
    flag,
    json_error,
    text,
)

from ... import sns
from ...models import DeliveryLog, Notification
from ...services import hold_address, log_delivery
from .mailer import CERTIFICATES_SERVICE
from .tasks import CONFIRM_TASK

log = logging.getLogger("totetaxi.mail_ses")

PROVIDER = "ses"
PATH = API_PREFIX + "/notifications/ses/events"

#: SES event types (``notificationType`` / ``eventType``) -> the delivery log's outcome.
OUTCOMES = {"Bounce": "bounce", "Complaint": "complaint", "Delivery": "delivery"}
#: The key of each event's details in the SES event JSON.
DETAIL_KEYS = {"Bounce": "bounce", "Complaint": "complaint", "Delivery": "delivery"}


class EventOut(colander.MappingSchema):
    """What the message did (``"duplicate"`` when SNS delivered it before)."""

    received = flag()
    outcome = text()


events = Service(
    name="mail_ses_events",
    path=PATH,
    description="Amazon SNS messages about SES mail: bounces, complaints, "
    "deliveries (signed by SNS)",
)


class TopicRefused(Exception):
    """The message's topic is not one this endpoint accepts (403)."""


def _clean(value: Any, limit: int) -> str:
    # The SES event is SNS's (signed), but PostgreSQL refuses NUL in text (PITFALLS 5) and the
    # columns have lengths: store what fits.
    return str(value).replace("\x00", "")[:limit]


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()[:30]


def _addresses(recipients: Any, key: str = "emailAddress") -> list[str]:
    """The addresses in SES's recipient list (``[{"emailAddress": ...}]`` or plain strings)."""
    found: list[str] = []
    for item in recipients if isinstance(recipients, list) else []:
        raw = item.get(key) if isinstance(item, dict) else item
        if not isinstance(raw, str):
            continue
        address = parseaddr(raw.replace("\x00", ""))[1].strip().lower()
        if "@" in address and len(address) <= 254 and address not in found:
            found.append(address)
    return found


def _check_topic(message: dict[str, Any], accepted: list[str]) -> None:
    if message["TopicArn"] not in accepted:
        raise TopicRefused(
            f"Topic {message['TopicArn'][:300]!r} is not one this endpoint "
            "accepts (setting mail_ses.topic_arns)."
        )


def _seen(ctx: Context, event_id: str) -> bool:
    return (
        ctx.dbsession.scalars(
            select(DeliveryLog.id).where(DeliveryLog.provider_event_id == event_id)
        ).first()
        is not None
    )


def _flush(ctx: Context) -> None:
    try:
        ctx.dbsession.flush()
    except IntegrityError as exc:
        # The same SNS message (or a hold of the same address) is being recorded by a concurrent
        # delivery: pyramid_retry runs this request again, which then finds it ("duplicate").
        mark_error_retryable(exc)
        raise


# --- handling ---------------------------------------------------------------------------------


def handle(ctx: Context, message: dict[str, Any]) -> str:
    """Apply one verified SNS message; return the outcome. Raises :class:`sns.SnsError` for an
    SES event that cannot be understood (nothing is recorded then)."""
    event_id = message["MessageId"]
    if _seen(ctx, event_id):
        return "duplicate"
    kind = message["Type"]
    if kind == sns.SUBSCRIPTION_CONFIRMATION:
        return _subscription(ctx, message)
    if kind == sns.UNSUBSCRIBE_CONFIRMATION:
        log.warning("SNS topic %s unsubscribed this endpoint", message["TopicArn"])
        log_delivery(
            ctx,
            None,
            "provider_event",
            "unsubscribed",
            f"SNS topic {message['TopicArn']} unsubscribed this endpoint",
            provider=PROVIDER,
            provider_event_id=event_id,
        )
        _flush(ctx)
        return "unsubscribed"
    return _ses_event(ctx, message)


def _subscription(ctx: Context, message: dict[str, Any]) -> str:
    sns.check_subscribe_url(
        message["SubscribeURL"],
        message["SigningCertURL"],
        ctx.settings["mail_ses.certificate_url_pattern"],
    )
    log_delivery(
        ctx,
        None,
        "provider_event",
        "subscription",
        f"confirming the subscription to SNS topic {message['TopicArn']}",
        provider=PROVIDER,
        provider_event_id=message["MessageId"],
    )
    _flush(ctx)
    # After commit: the GET is network I/O, and a rolled-back request must not confirm.
    ctx.enqueue(
        CONFIRM_TASK, message["SubscribeURL"], message["SigningCertURL"], message["TopicArn"]
    )
    return "subscription confirmation queued"


def _ses_event(ctx: Context, message: dict[str, Any]) -> str:
    try:
        event = json.loads(message["Message"])
    except ValueError:
        raise sns.SnsError("Message", "Message is not an SES event (JSON).") from None
    if not isinstance(event, dict):
        raise sns.SnsError("Message", "Message is not an SES event (a JSON object).")
    kind = event.get("notificationType") or event.get("eventType")
    if not isinstance(kind, str) or not kind:
        raise sns.SnsError(
            "Message", "Message has neither notificationType nor eventType: not an SES event."
        )
    kind = _clean(kind, 100)
    mail = event.get("mail")
    mail_id = mail.get("messageId") if isinstance(mail, dict) else None
    if kind in OUTCOMES and not (isinstance(mail_id, str) and mail_id):
        raise sns.SnsError("Message", f"The SES {kind} event has no mail.messageId.")
    mail_id = _clean(mail_id, 200) if isinstance(mail_id, str) else None
    details = event.get(DETAIL_KEYS.get(kind, ""), None)
    if kind in OUTCOMES and not isinstance(details, dict):
        raise sns.SnsError("Message", f"The SES {kind} event has no {DETAIL_KEYS[kind]} details.")
    notification = None
    if mail_id:
        notification = ctx.dbsession.scalars(
            select(Notification).where(Notification.provider_message_id == mail_id).limit(1)
        ).first()
    event_id = message["MessageId"]
    outcome = OUTCOMES.get(kind) or _snake(kind)
    held: list[str] = []
    if kind == "Bounce":
        bounce_type = str(details.get("bounceType") or "")
        sub_type = str(details.get("bounceSubType") or "")
        recipients = details.get("bouncedRecipients")
        lines = [f"{bounce_type}/{sub_type} bounce"]
        for item in recipients if isinstance(recipients, list) else []:
            if isinstance(item, dict):
                lines.append(
                    " ".join(
                        str(item.get(k) or "") for k in ("emailAddress", "status", "diagnosticCode")
                    ).strip()
                )
        detail = _clean("\n".join(lines), 4000)
        if bounce_type == "Permanent":
            held = _addresses(recipients)
        answer = f"bounce {bounce_type.lower() or 'undetermined'}"
    elif kind == "Complaint":
        feedback = str(details.get("complaintFeedbackType") or "")
        recipients = details.get("complainedRecipients")
        held = _addresses(recipients)
        detail = _clean(
            "complaint" + (f" ({feedback})" if feedback else "") + ": " + ", ".join(held), 4000
        )
        answer = "complaint"
    elif kind == "Delivery":
        detail = "delivered to " + ", ".join(_addresses(details.get("recipients"), ""))
        answer = "delivery"
    else:
        # Opens, clicks, rejects, delivery delays, SES's test notification...: kept for the
        # record, nothing to act on.
        detail = f"SES {kind} event"
        answer = f"recorded {outcome}"
    log_delivery(
        ctx,
        notification,
        "provider_event",
        outcome,
        detail,
        provider=PROVIDER,
        provider_message_id=mail_id,
        provider_event_id=event_id,
    )
    _flush(ctx)  # the SNS message is ours now: a concurrent twin waits, then finds it
    for address in held:
        hold_address(ctx, address, outcome, detail, source=event_id)
    if held:
        _flush(ctx)
        answer += f": {len(held)} address{'es' if len(held) != 1 else ''} held"
    if notification is None and kind in OUTCOMES:
        log.info("SES %s for message %s, which is no notification of ours", kind, mail_id)
    return answer


# --- the view ---------------------------------------------------------------------------------


@events.post(
    permission=NO_PERMISSION_REQUIRED,
    idempotent=False,
    response_schemas=answers(
        200,
        EventOut(),
        "Verified and applied once. A malformed or badly signed message is 400.",
        errors={
            403: "The topic is not one this endpoint accepts (or none is set up).",
            503: "SNS's signing certificate cannot be fetched now; SNS sends it again.",
        },
    ),
)
def ses_events_view(request: Request) -> Any:
    """Verify an SNS message (bounce, complaint, delivery, subscription) and apply it once.

    400 names the field at fault (malformed JSON, a missing field, a bad signature); 403 when
    the topic is not in ``mail_ses.topic_arns`` (or none is set); 503 when SNS's certificate
    cannot be fetched now.
    """
    settings = request.registry.settings
    accepted = settings["mail_ses.topic_arns"]
    if not accepted:
        return json_error(
            request,
            403,
            "TopicArn",
            "This endpoint accepts no SNS topic yet: "
            "set mail_ses.topic_arns to the ARN of the topic SES publishes to.",
        )
    try:
        message = sns.parse(request.body)
        _check_topic(message, accepted)
        sns.verify(
            message,
            certificate_url_pattern=settings["mail_ses.certificate_url_pattern"],
            certificates=find_service(request, CERTIFICATES_SERVICE),
            now=request.ctx.now(),
        )
        outcome = handle(request.ctx, message)
    except TopicRefused as exc:
        count_webhook_failure("mail_ses", "topic")
        return json_error(request, 403, "TopicArn", str(exc))
    except sns.SnsError as exc:
        # A malformed message or a bad signature: both are refusals of the delivery.
        count_webhook_failure("mail_ses", "signature" if exc.field == "Signature" else "payload")
        return json_error(request, 400, exc.field, exc.description)
    except sns.CertificateUnavailable as exc:
        count_webhook_failure("mail_ses", "not_ready")
        log.warning("SNS signing certificate unavailable: %s", exc)
        response: Response = json_error(
            request,
            503,
            "SigningCertURL",
            "The signing certificate cannot be fetched now; try again.",
        )
        response.headers["Retry-After"] = "30"
        return response
    return {"received": True, "outcome": outcome}


# --- the task ---------------------------------------------------------------------------------


def includeme(config: Configurator) -> None:
    config.scan(__name__)
