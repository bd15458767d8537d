"""``POST /api/v1/notifications/ses/events``: SES's bounces, complaints and deliveries via SNS.

Through the real app (SQLite and PostgreSQL) with ``mail_ses`` as the mailer, sending to moto's
SES in this process, and a signing SNS stand-in (``sns_stub.SnsStub``) whose certificate the
app fetches from loopback. The app's clock is the payments tests' ``NOW``; messages are signed
with that time, so the webhook's freshness check must use the app's clock. Tasks are eager: a
subscription confirmation's GET happens right after the request commits.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import func, select
from support.payments import (
    APP_SETTINGS,
    NOW,
    book_as_guest,
    cheap_passwords,
    client,
    error_named,
    fetch,
    guest_body,
    paid_booking,
    run,
    set_clock,
)
from support.sns_stub import (
    OTHER_TOPIC_ARN,
    TOPIC_ARN,
    MotoSes,
    SnsStub,
    aws_environment,
    ses_event,
)
from totetaxi_notifications import sns
from totetaxi_notifications.adapters.mail_ses import SesMailer
from totetaxi_notifications.models import (
    DeliveryLog,
    HeldAddress,
    Notification,
)
from webtest import TestApp

from totetaxi_core.db import make_engine
from totetaxi_core.migrate import migrate
from totetaxi_core.platform import prepare
from totetaxi_core.plugin_api import find_service
from totetaxi_core.testing import base_settings

PATH = "/api/v1/notifications/ses/events"
SENDER = "bookings@totetaxi.example"  # notifications.from_address's address
GUEST = guest_body()["guest"]  # the guest of every guest booking here
GUEST_EMAIL = GUEST["email"].lower()


# --- the app ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoSes]:
    """One moto server for the module (starting one takes most of a second)."""
    with pytest.MonkeyPatch.context() as patch:
        aws_environment(patch, tmp_path_factory.mktemp("aws"))
        with MotoSes() as ses:
            yield ses


@pytest.fixture
def moto(moto_server: MotoSes) -> Iterator[MotoSes]:
    """moto's SES with nothing sent yet and the app's sender verified."""
    moto_server.reset()
    moto_server.verify(SENDER)
    yield moto_server
    moto_server.reset()


@pytest.fixture
def stub() -> Iterator[SnsStub]:
    with SnsStub() as sns:
        yield sns


def install(db_url: str, settings: dict[str, Any]) -> None:
    """``totetaxi migrate`` with these plugins: switching mail_console for mail_ses."""
    platform = prepare(base_settings(db_url, **settings), environ={})
    engine = make_engine(platform.settings)
    try:
        migrate(platform, engine)
    finally:
        engine.dispose()


@pytest.fixture
def build(
    make_testapp: Any, db_url: str, monkeypatch: pytest.MonkeyPatch, stub: SnsStub, moto: MotoSes
) -> Callable[..., TestApp]:
    """``build(**settings)``: the app with pricing, the mock gateway and mail_ses, on NOW."""
    cheap_passwords(monkeypatch)

    def factory(**overrides: Any) -> TestApp:
        settings = {
            **APP_SETTINGS,
            "totetaxi.plugins": "pricing payments_mock mail_ses",
            "mail_ses.topic_arns": TOPIC_ARN,
            "mail_ses.certificate_url_pattern": stub.pattern,
            "mail_ses.endpoint_url": moto.url,
            "mail_ses.timeout_seconds": 5,
            **overrides,
        }
        install(db_url, settings)
        app = make_testapp(**settings)
        set_clock(app, NOW)
        return app

    return factory


@pytest.fixture
def app(build: Callable[..., TestApp]) -> TestApp:
    return build()


# --- helpers ----------------------------------------------------------------------------------


def post(
    app: TestApp,
    message: dict[str, Any] | bytes,
    status: int = 200,
    content_type: str = "text/plain; charset=UTF-8",
) -> Any:
    """POST as SNS does: JSON labelled ``text/plain``."""
    body = message if isinstance(message, bytes) else json.dumps(message).encode()
    headers = {"Content-Type": content_type}
    if isinstance(message, dict):
        headers["x-amz-sns-message-type"] = str(message.get("Type"))
        headers["x-amz-sns-message-id"] = str(message.get("MessageId"))
    return client(app).post(PATH, body, headers=headers, status=status)


def events_logged(app: TestApp) -> list[DeliveryLog]:
    return fetch(
        app,
        select(DeliveryLog)
        .where(DeliveryLog.kind == "provider_event")
        .order_by(DeliveryLog.at, DeliveryLog.id),
    )


def held(app: TestApp) -> dict[str, HeldAddress]:
    return {row.email: row for row in fetch(app, select(HeldAddress))}


def notifications_to(app: TestApp, email: str) -> list[Notification]:
    return fetch(
        app,
        select(Notification)
        .where(Notification.recipient == email)
        .order_by(Notification.created_at, Notification.id),
    )


def sent_notification(app: TestApp) -> Notification:
    """A notification the app sent to the guest through SES (a paid booking's emails)."""
    paid_booking(app)
    sent = [n for n in notifications_to(app, GUEST_EMAIL) if n.status == "sent"]
    assert sent, "the paid booking sent no email"
    return sent[0]


def nothing_recorded(app: TestApp) -> None:
    assert events_logged(app) == []
    assert held(app) == {}


# --- signatures -------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["1", "2"])
def test_valid_signature_is_accepted(app: TestApp, stub: SnsStub, version: str) -> None:
    message = stub.notification(
        ses_event("Delivery", "ses-id-unknown", ["a@example.com"]),
        when=NOW,
        version=version,
        subject="Amazon SES Email Event",
    )
    answer = post(app, message).json
    assert answer == {"received": True, "outcome": "delivery"}
    [row] = events_logged(app)
    assert (
        row.outcome,
        row.provider,
        row.provider_event_id,
        row.provider_message_id,
        row.notification_id,
    ) == ("delivery", "ses", message["MessageId"], "ses-id-unknown", None)


def test_certificate_is_fetched_once_for_both_versions(app: TestApp, stub: SnsStub) -> None:
    for version in ("1", "2", "1"):
        post(
            app,
            stub.notification(
                ses_event("Delivery", "x", ["a@example.com"]), when=NOW, version=version
            ),
        )
    assert len(stub.certificate_gets()) == 1
    assert len(events_logged(app)) == 3


def test_json_content_type_is_accepted_too(app: TestApp, stub: SnsStub) -> None:
    message = stub.notification(ses_event("Delivery", "x", ["a@example.com"]), when=NOW)
    assert post(app, message, content_type="application/json").json["outcome"] == "delivery"


def test_only_the_webhook_is_let_through_the_json_only_rule(app: TestApp) -> None:
    """``accept_any_body`` opens one path: other API writes in text/plain stay refused (415)."""
    refused = client(app).post(
        "/api/v1/auth/login",
        b'{"email": "a@b.c"}',
        headers={"Content-Type": "text/plain"},
        status=415,
    )
    assert "application/json" in refused.text


def test_tampered_message_is_refused_and_nothing_recorded(app: TestApp, stub: SnsStub) -> None:
    message = stub.notification(ses_event("Delivery", "x", ["a@example.com"]), when=NOW)
    message["Message"] = json.dumps(ses_event("Complaint", "x", ["victim@example.com"]))
    answer = post(app, message, status=400).json
    assert error_named(answer, "Signature")
    nothing_recorded(app)


def test_signature_by_another_key_is_refused(app: TestApp, stub: SnsStub) -> None:
    with SnsStub() as forger:
        message = forger.notification(
            ses_event("Complaint", "x", ["victim@example.com"]), when=NOW, cert_url=stub.cert_url
        )
    assert error_named(post(app, message, status=400).json, "Signature")
    nothing_recorded(app)


@pytest.mark.parametrize("where", ["localhost", "other-path", "https"])
def test_certificate_url_outside_the_pattern_is_never_fetched(
    app: TestApp, stub: SnsStub, where: str
) -> None:
    url = {
        "localhost": f"http://localhost:{stub.port}/SimpleNotificationService-1.pem",
        "other-path": f"{stub.base_url}/nested/SimpleNotificationService-1.pem",
        "https": f"https://127.0.0.1:{stub.port}/SimpleNotificationService-1.pem",
    }[where]
    message = stub.notification(
        ses_event("Complaint", "x", ["victim@example.com"]), when=NOW, cert_url=url
    )
    answer = post(app, message, status=400).json
    assert "certificate_url_pattern" in error_named(answer, "SigningCertURL")["description"]
    assert stub.gets == []
    nothing_recorded(app)


def test_topic_not_listed_is_forbidden(app: TestApp, stub: SnsStub) -> None:
    message = stub.notification(
        ses_event("Complaint", "x", ["victim@example.com"]), when=NOW, topic_arn=OTHER_TOPIC_ARN
    )
    answer = post(app, message, status=403).json
    assert "mail_ses.topic_arns" in error_named(answer, "TopicArn")["description"]
    assert stub.gets == []
    nothing_recorded(app)


def test_without_topics_every_message_is_forbidden(
    build: Callable[..., TestApp], stub: SnsStub
) -> None:
    app = build(**{"mail_ses.topic_arns": ""})
    message = stub.notification(ses_event("Complaint", "x", ["victim@example.com"]), when=NOW)
    answer = post(app, message, status=403).json
    assert "set mail_ses.topic_arns" in error_named(answer, "TopicArn")["description"]
    assert error_named(post(app, b"{}", status=403).json, "TopicArn")
    assert stub.gets == []
    nothing_recorded(app)


@pytest.mark.parametrize(
    ("when", "word"),
    [(NOW - dt.timedelta(hours=2), "too old"), (NOW + dt.timedelta(hours=1), "future")],
)
def test_stale_or_future_timestamp_is_refused(
    app: TestApp, stub: SnsStub, when: dt.datetime, word: str
) -> None:
    message = stub.notification(ses_event("Complaint", "x", ["victim@example.com"]), when=when)
    answer = post(app, message, status=400).json
    assert word in error_named(answer, "Timestamp")["description"]
    nothing_recorded(app)


@pytest.mark.both_databases
def test_recent_message_by_the_app_clock_is_accepted(app: TestApp, stub: SnsStub) -> None:
    # Signed 50 minutes before the app's NOW (two days before the wall clock): accepted.
    message = stub.notification(
        ses_event("Delivery", "x", ["a@example.com"]), when=NOW - dt.timedelta(minutes=50)
    )
    assert post(app, message).json["outcome"] == "delivery"


# --- malformed messages -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"{not json", "body"),
        (b"[1, 2]", "body"),
        (b"\xff\xfe", "body"),
        (json.dumps({"MessageId": "x"}).encode(), "Type"),
        (json.dumps({"Type": "Gossip"}).encode(), "Type"),
    ],
)
def test_malformed_body_is_400_naming_the_field(app: TestApp, body: bytes, field: str) -> None:
    assert error_named(post(app, body, status=400).json, field)
    nothing_recorded(app)


@pytest.mark.parametrize(
    "field",
    [
        "MessageId",
        "Message",
        "Timestamp",
        "TopicArn",
        "Signature",
        "SigningCertURL",
        "SignatureVersion",
    ],
)
def test_missing_or_wrong_field_is_400_naming_it(app: TestApp, stub: SnsStub, field: str) -> None:
    message = stub.notification(ses_event("Delivery", "x", ["a@example.com"]), when=NOW)
    del message[field]
    assert error_named(post(app, message, status=400).json, field)
    message[field] = 12
    assert error_named(post(app, message, status=400).json, field)
    nothing_recorded(app)


def test_unknown_signature_version_is_refused(app: TestApp, stub: SnsStub) -> None:
    message = stub.notification(ses_event("Delivery", "x", ["a@example.com"]), when=NOW)
    message["SignatureVersion"] = "3"
    assert error_named(post(app, message, status=400).json, "SignatureVersion")


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        "[]",
        json.dumps({"mail": {"messageId": "x"}}),
        json.dumps({"notificationType": "Bounce", "bounce": {"bounceType": "Permanent"}}),
    ],
)
def test_signed_message_that_is_no_ses_event_is_400(
    app: TestApp, stub: SnsStub, content: str
) -> None:
    message = stub.notification(content, when=NOW)
    assert error_named(post(app, message, status=400).json, "Message")
    nothing_recorded(app)


# --- SES events -------------------------------------------------------------------------------


@pytest.mark.parametrize("publishing", [False, True], ids=["identity", "configuration_set"])
def test_permanent_bounce_holds_the_address_and_later_mail_is_held(
    app: TestApp, stub: SnsStub, moto: MotoSes, publishing: bool
) -> None:
    notification = sent_notification(app)
    assert notification.provider == "ses"
    assert notification.provider_message_id in moto.sent_ids()
    message = stub.notification(
        ses_event(
            "Bounce", notification.provider_message_id, [GUEST["email"]], publishing=publishing
        ),
        when=NOW,
    )
    answer = post(app, message).json
    assert answer == {"received": True, "outcome": "bounce permanent: 1 address held"}
    [row] = events_logged(app)
    assert (
        row.notification_id,
        row.outcome,
        row.provider,
        row.provider_event_id,
        row.provider_message_id,
    ) == (notification.id, "bounce", "ses", message["MessageId"], notification.provider_message_id)
    assert "Permanent/General" in row.detail
    hold = held(app)[GUEST_EMAIL]
    assert (hold.reason, hold.source) == ("bounce", message["MessageId"])

    sent_before = len(moto.sent_ids())
    earlier = {n.id for n in notifications_to(app, GUEST_EMAIL)}
    book_as_guest(app)  # emails the same guest address
    # (The clock is fixed: created_at does not order them.)
    [latest] = [n for n in notifications_to(app, GUEST_EMAIL) if n.id not in earlier]
    assert latest.template_key == "booking_received"
    assert latest.status == "held"
    assert latest.provider_message_id is None
    assert len(moto.sent_ids()) == sent_before


def test_complaint_holds_the_address(app: TestApp, stub: SnsStub) -> None:
    notification = sent_notification(app)
    message = stub.notification(
        ses_event(
            "Complaint", notification.provider_message_id, [f"Gale Guest <{GUEST['email']}>"]
        ),
        when=NOW,
    )
    assert post(app, message).json["outcome"] == "complaint: 1 address held"
    [row] = events_logged(app)
    assert (row.notification_id, row.outcome) == (notification.id, "complaint")
    assert held(app)[GUEST_EMAIL].reason == "complaint"


def test_complaint_from_event_publishing_holds_every_recipient(app: TestApp, stub: SnsStub) -> None:
    message = stub.notification(
        ses_event("Complaint", "not-ours", ["A@Example.com", "b@example.com"], publishing=True),
        when=NOW,
    )
    assert post(app, message).json["outcome"] == "complaint: 2 addresses held"
    assert set(held(app)) == {"a@example.com", "b@example.com"}
    assert events_logged(app)[0].notification_id is None


@pytest.mark.parametrize("bounce_type", ["Transient", "Undetermined"])
def test_transient_bounce_does_not_hold(app: TestApp, stub: SnsStub, bounce_type: str) -> None:
    notification = sent_notification(app)
    message = stub.notification(
        ses_event(
            "Bounce", notification.provider_message_id, [GUEST["email"]], bounce_type=bounce_type
        ),
        when=NOW,
    )
    assert post(app, message).json["outcome"] == f"bounce {bounce_type.lower()}"
    [row] = events_logged(app)
    assert (row.notification_id, row.outcome) == (notification.id, "bounce")
    assert held(app) == {}


@pytest.mark.both_databases
def test_same_sns_message_twice_is_recorded_once(app: TestApp, stub: SnsStub) -> None:
    notification = sent_notification(app)
    message = stub.notification(
        ses_event("Bounce", notification.provider_message_id, [GUEST["email"]]), when=NOW
    )
    assert post(app, message).json["outcome"] == "bounce permanent: 1 address held"
    first_hold = held(app)[GUEST_EMAIL]
    assert post(app, message).json == {"received": True, "outcome": "duplicate"}
    assert len(events_logged(app)) == 1
    again = held(app)
    assert list(again) == [GUEST_EMAIL]
    assert again[GUEST_EMAIL].created_at == first_hold.created_at


def test_other_ses_events_are_recorded_only(app: TestApp, stub: SnsStub) -> None:
    message = stub.notification(
        ses_event("DeliveryDelay", "x", ["a@example.com"], publishing=True), when=NOW
    )
    assert post(app, message).json["outcome"] == "recorded delivery_delay"
    [row] = events_logged(app)
    assert row.outcome == "delivery_delay"
    assert held(app) == {}


# --- subscriptions ----------------------------------------------------------------------------


@pytest.mark.both_databases
def test_subscription_confirmation_gets_subscribe_url_once_after_commit(
    app: TestApp, stub: SnsStub
) -> None:
    committed_at_get: list[int] = []

    def on_get(path: str) -> None:
        if "Action=ConfirmSubscription" in path:
            # Read from another connection: the request's writes must be committed by now.
            committed_at_get.append(
                run(
                    app,
                    lambda ctx: ctx.dbsession.scalar(
                        select(func.count())
                        .select_from(DeliveryLog)
                        .where(DeliveryLog.outcome == "subscription")
                    ),
                )
            )

    stub.on_get = on_get
    message = stub.confirmation(when=NOW)
    answer = post(app, message).json
    assert answer == {"received": True, "outcome": "subscription confirmation queued"}
    assert stub.subscribe_gets() == [message["SubscribeURL"].removeprefix(stub.base_url)]
    assert committed_at_get == [1]
    assert post(app, message).json["outcome"] == "duplicate"
    assert len(stub.subscribe_gets()) == 1


def test_subscribe_url_on_another_host_is_refused(app: TestApp, stub: SnsStub) -> None:
    message = stub.confirmation(
        when=NOW,
        subscribe_url=(f"http://localhost:{stub.port}/?Action=ConfirmSubscription&Token=abc"),
    )
    assert error_named(post(app, message, status=400).json, "SubscribeURL")
    assert stub.subscribe_gets() == []
    nothing_recorded(app)


def test_confirmation_for_an_unlisted_topic_is_forbidden(app: TestApp, stub: SnsStub) -> None:
    message = stub.confirmation(when=NOW, topic_arn=OTHER_TOPIC_ARN)
    assert error_named(post(app, message, status=403).json, "TopicArn")
    assert stub.gets == []


def test_unsubscribe_confirmation_is_logged(app: TestApp, stub: SnsStub) -> None:
    message = stub.confirmation(when=NOW, kind="UnsubscribeConfirmation", version="2")
    assert post(app, message).json == {"received": True, "outcome": "unsubscribed"}
    [row] = events_logged(app)
    assert (row.outcome, row.provider_event_id) == ("unsubscribed", message["MessageId"])
    assert stub.subscribe_gets() == []


# --- the mailer in the app --------------------------------------------------------------------


def test_app_sends_through_one_ses_client(app: TestApp, moto: MotoSes) -> None:
    mailer = find_service(app.app.registry, "mail_ses.mailer")
    assert isinstance(mailer, SesMailer)
    sent_notification(app)
    client_used = mailer.client
    book_as_guest(app)
    assert mailer.client is client_used
    assert {n.status for n in notifications_to(app, GUEST_EMAIL)} == {"sent"}
    assert len(moto.sent_ids()) >= 3


def test_webhook_is_in_the_api_document(app: TestApp) -> None:
    document = client(app).get("/api/v1/openapi.json").json
    assert "post" in document["paths"][PATH]


@pytest.mark.both_databases
def test_nul_character_is_refused_not_a_500(app: TestApp, stub: SnsStub) -> None:
    message = stub.notification(
        ses_event("Delivery", "x", ["a@example.com"]), when=NOW, message_id="id-with-\x00-nul"
    )
    assert error_named(post(app, message, status=400).json, "MessageId")
    inner = stub.notification(ses_event("Bounce", "ses-\x00-id", ["nul\x00@example.com"]), when=NOW)
    assert post(app, inner).json["outcome"] == "bounce permanent: 1 address held"
    assert list(held(app)) == ["nul@example.com"]
    assert events_logged(app)[0].provider_message_id == "ses--id"


# --- the default certificate pattern (no app) -------------------------------------------------


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        (
            "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-9c6465fa7f48f5cacd23014631ec1136.pem",
            True,
        ),
        ("https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-abc.pem", True),
        ("http://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem", False),
        (
            "https://sns.us-east-1.amazonaws.com.evil.example/SimpleNotificationService-abc.pem",
            False,
        ),
        (
            "https://sns.us-east-1.amazonaws.com@evil.example/SimpleNotificationService-abc.pem",
            False,
        ),
        ("https://evil.example/sns.us-east-1.amazonaws.com/x.pem", False),
        ("https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem#x", False),
        ("https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&x=.pem", False),
        ("https://s3.amazonaws.com/SimpleNotificationService-abc.pem", False),
        # S3 buckets named "sns" (anyone can own one) and other files on SNS's host.
        ("https://sns.s3.amazonaws.com/SimpleNotificationService-abc.pem", False),
        ("https://sns.s3-accelerate.amazonaws.com/SimpleNotificationService-abc.pem", False),
        ("https://sns.s3-website-us-east-1.amazonaws.com/SimpleNotificationService-abc.pem", False),
        ("https://sns.us-east-1.amazonaws.com/evil.pem", False),
        ("https://sns.us-gov-west-1.amazonaws.com/SimpleNotificationService-abc.pem", True),
    ],
)
def test_default_certificate_pattern(url: str, allowed: bool) -> None:
    if allowed:
        sns.check_url(url, sns.DEFAULT_CERTIFICATE_URL_PATTERN)
    else:
        with pytest.raises(sns.SnsError) as refused:
            sns.check_url(url, sns.DEFAULT_CERTIFICATE_URL_PATTERN)
        assert refused.value.field == "SigningCertURL"


@pytest.mark.parametrize("pattern", [".*", "https://.*", "https?://.*", "(https://sns.x|.*)"])
def test_a_certificate_pattern_must_pin_a_literal_host(pattern: str) -> None:
    from totetaxi_core.errors import SettingsError
    from totetaxi_core.platform import prepare

    with pytest.raises(SettingsError) as refused:
        prepare(
            base_settings(
                "sqlite://",
                **{"totetaxi.plugins": "mail_ses", "mail_ses.certificate_url_pattern": pattern},
            ),
            environ={},
        )
    assert "mail_ses.certificate_url_pattern" in str(refused.value)
