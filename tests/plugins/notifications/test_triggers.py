"""Triggers: every event of BUSINESS_RULES "Notifications" queues one email in the event's
transaction, to the right address, sent after commit; a repeated event sends nothing new.

The app is that of ``support.notifications`` (pricing + the mock gateway + notifications
with the console mailer, tasks eager, clock on Monday 2026-11-23 10:00 New York, bookings for
Thursday ``DAY`` at the Petite price, $995.00). Each test checks the Notification rows, their
delivery log and the ``.eml`` files the console mailer wrote.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from types import SimpleNamespace
from typing import Any

import pytest
import support.notifications as notifications_support
from sqlalchemy import delete, select, update
from support.bookings import GUEST, ny
from support.notifications import (
    count,
    email_files,
    email_for,
    emails,
    fetch,
    fire,
    flaky,
    logs,
    notification,
    notifications,
    run,
    send_due,
    send_now,
    set_clock,
    templates_of,
)
from support.payments import (
    BOOKINGS,
    CARD_DECLINED,
    CARD_OK,
    NOW,
    REFUNDS,
    book,
    book_as_guest,
    client,
    customer,
    customer_body,
    error_named,
    guest_body,
    mock_confirm,
    outbox,
    paid_booking,
    pay,
    post_webhook,
    staff_member,
)
from totetaxi_notifications import sealing, services
from totetaxi_notifications.models import GuestLink, Notification
from totetaxi_notifications.sealing import REDACTED, SEALED
from totetaxi_payments.adapters.mock import DELIVER_TASK
from totetaxi_payments.models import Payment
from webtest import TestApp

from totetaxi_core.bookings.models import Booking
from totetaxi_core.tasks import OutboxMessage, OutboxStatus
from totetaxi_core.tasks.outbox import run_now

app = notifications_support.app  # the fixture: pricing, payments_mock, mail_console

TOTE = "$995.00"
PUBLIC_URL = "http://127.0.0.1:6543"
NEW_PASSWORD = "Another-Strong-Pass-42"


def booking_id(created: dict[str, Any]) -> uuid.UUID:
    return uuid.UUID(created["id"])


def of_booking(created: dict[str, Any]) -> Any:
    return Notification.booking_id == booking_id(created)


def sends(app: TestApp) -> int:
    """Send tasks in the outbox (one per queued notification, plus each resend/retry)."""
    return count(app, OutboxMessage, OutboxMessage.task == services.SEND_TASK)


def set_booking(app: TestApp, created: dict[str, Any], **values: Any) -> None:
    run(
        app,
        lambda ctx: ctx.dbsession.execute(
            update(Booking).where(Booking.id == booking_id(created)).values(**values)
        ),
    )


def request_refund(app: TestApp, headers: dict[str, str], payment_id: str, amount: int) -> Any:
    return (
        client(app)
        .post_json(
            REFUNDS,
            {"payment_id": payment_id, "amount_cents": amount, "reason": "Van arrived late"},
            headers=headers,
            status=201,
        )
        .json
    )


def approve(app: TestApp, headers: dict[str, str], refund_id: str) -> Any:
    return (
        client(app)
        .post_json(f"{REFUNDS}/{refund_id}/approve", {}, headers=headers, status=200)
        .json
    )


# --- the journey ---------------------------------------------------------------------------


@pytest.mark.both_databases
def test_a_paid_guest_booking_emails_booking_received_then_payment_confirmed_to_the_guest(app):
    created = book_as_guest(app)
    number = created["number"]
    # Booking received: queued with the booking, sent as soon as the request committed.
    [received] = notifications(app)
    assert (received.template_key, received.recipient, received.status) == (
        "booking_received",
        GUEST["email"],
        "sent",
    )
    assert received.booking_id == booking_id(created) and received.customer_id is None
    assert received.unique_key == f"booking_received:{created['id']}"
    assert [e.to for e in emails(app)] == [GUEST["email"]]

    started = pay(app, created)
    assert mock_confirm(app, started["payment_id"], CARD_OK, created)["status"] == "succeeded"

    rows = notifications(app)
    assert [(r.template_key, r.recipient, r.status, r.attempts) for r in rows] == [
        ("booking_received", GUEST["email"], "sent", 1),
        ("payment_confirmed", GUEST["email"], "sent", 1),
    ]
    assert all(r.booking_id == booking_id(created) and r.customer_id is None for r in rows)
    assert rows[1].unique_key == f"payment_confirmed:{started['payment_id']}"
    assert all(r.provider == "console" and r.sent_at == NOW and r.last_error == "" for r in rows)

    sent = emails(app)
    assert len(sent) == 2
    assert sorted(e.notification for e in sent) == sorted(str(r.id) for r in rows)
    assert {e.to for e in sent} == {GUEST["email"]}
    assert {e.from_address for e in sent} == {"ToteTaxi <bookings@totetaxi.example>"}
    first, confirmed = email_for(app, "booking_received"), email_for(app, "payment_confirmed")
    assert first.subject == f"We received your booking {number}"
    assert confirmed.subject == f"Booking {number} is confirmed"
    for mail in (first, confirmed):
        assert mail.text.startswith(f"Hello {GUEST['first_name']},\n")
        assert f"Booking: {number}\n" in mail.text and f"Total: {TOTE}\n" in mail.text
        assert number in mail.html and f"<strong>{TOTE}</strong>" in mail.html
    assert f"We received your payment of {TOTE}. Your booking is confirmed." in confirmed.text
    # What was sent is kept on the row (the customer's and staff's history), the guest's link
    # (it carries their token) erased.
    by_key = {r.template_key: r for r in rows}
    assert by_key["payment_confirmed"].subject == confirmed.subject
    link = f"{PUBLIC_URL}/bookings/{number}?token={created['tracking_token']}"
    assert by_key["payment_confirmed"].text_body == confirmed.text.replace(link, REDACTED)
    assert link in confirmed.text
    # The .eml files are the provider's ids; nothing half-written is left behind.
    assert email_files(app) == sorted(f"{r.provider_message_id}.eml" for r in rows)
    for row in rows:
        stored = notifications_support.mailer(app).read(row.provider_message_id)
        assert stored["To"] == GUEST["email"] and number in str(stored["Subject"])
        assert [
            (log.kind, log.outcome, log.provider, log.provider_message_id)
            for log in logs(app, row.id)
        ] == [("attempt", "sent", "console", row.provider_message_id)]


def test_a_customers_booking_goes_to_the_account_email_whatever_else_is_typed(app):
    me, headers = customer(app)
    # A signed-in customer cannot type a guest address at all ...
    error_named(book(app, guest_body(), headers, status=400), "guest")
    assert notifications(app) == [] and emails(app) == []
    created = book(app, customer_body(), headers)
    # ... and an address found on the booking row anyway is not used either.
    set_booking(app, created, guest_email="typed@example.com", guest_first_name="Typo")
    started = pay(app, created, headers)
    assert mock_confirm(app, started["payment_id"], CARD_OK, headers=headers)["status"] == (
        "succeeded"
    )
    rows = notifications(app)
    assert [(r.template_key, r.recipient, r.customer_id) for r in rows] == [
        ("booking_received", me["email"], uuid.UUID(me["id"])),
        ("payment_confirmed", me["email"], uuid.UUID(me["id"])),
    ]
    sent = emails(app)
    assert [e.to for e in sent] == [me["email"], me["email"]]
    assert all(e.text.startswith("Hello Casey,\n") for e in sent)
    assert all(created["number"] in e.subject for e in sent)
    assert "typed@example.com" not in json.dumps([r.context for r in rows])
    # A customer's link is the plain booking page: no token anywhere.
    assert f"{PUBLIC_URL}/bookings/{created['number']}\n" in email_for(app, "booking_received").text
    assert all("token=" not in e.text for e in sent)


# --- the guest's link: sealed at rest, erased once sent ------------------------------------


@pytest.mark.both_databases
def test_the_guests_link_is_in_the_email_but_never_readable_in_the_database(app, monkeypatch):
    wrapper = flaky(app, monkeypatch, failures=1)  # the first attempt fails: the row waits
    created = book_as_guest(app)
    token = created["tracking_token"]
    link = f"{PUBLIC_URL}/bookings/{created['number']}?token={token}"
    [waiting] = notifications(app)
    assert waiting.status == "retrying" and emails(app) == []
    # Waiting for its retry, the row keeps the link only sealed.
    assert token not in json.dumps(waiting.context)
    assert list(waiting.context[SEALED]) == ["booking.url"]
    assert waiting.context["booking"]["url"] == f"{PUBLIC_URL}/bookings/{created['number']}"
    assert token not in waiting.text_body + waiting.html_body + waiting.subject
    assert token in wrapper.calls[0].text  # the failed attempt did carry it

    set_clock(app, NOW + dt.timedelta(seconds=60))
    assert send_due(app) == 1
    [mail] = emails(app)
    assert f"See or pay for it here: {link}\n" in mail.text
    assert f'href="{link}"' in mail.html
    [sent] = notifications(app)
    assert sent.status == "sent" and sent.attempts == 2
    stored = json.dumps(sent.context) + sent.subject + sent.text_body + sent.html_body
    assert token not in stored
    assert SEALED not in sent.context
    assert sent.context["booking"]["url"] == REDACTED
    assert f"See or pay for it here: {REDACTED}\n" in sent.text_body
    assert all(token not in log.detail for log in logs(app))


def link_tokens(created: dict[str, Any], mail: Any) -> set[str]:
    """The tokens of the booking's links in an email (text and HTML): empty when they have
    none (the email must link to the booking)."""
    url = f"{PUBLIC_URL}/bookings/{created['number']}"
    assert url in mail.text + mail.html, mail.subject
    return set(re.findall(re.escape(url) + r"\?token=([A-Za-z0-9_\-]+)", mail.text + mail.html))


def guest_links(app: TestApp) -> list[GuestLink]:
    return fetch(app, select(GuestLink))


def app_secret(app: TestApp) -> str:
    return app.app.registry.settings["totetaxi.secret"]


def assert_kept_without(token: str, rows: list[Notification]) -> None:
    """What the database keeps of sent emails: the link erased, no sealed copy."""
    for row in rows:
        assert row.status == "sent"
        stored = json.dumps(row.context) + row.subject + row.text_body + row.html_body
        assert token not in stored, row.template_key
        assert SEALED not in row.context
        assert row.context["booking"]["url"] == REDACTED


def test_a_guests_later_emails_carry_their_token_kept_sealed_and_erased_once_sent(app):
    created = book_as_guest(app)
    token = created["tracking_token"]
    # The token is kept, sealed: only the app's secret opens it.
    [link] = guest_links(app)
    assert link.booking_id == booking_id(created)
    assert token not in link.sealed_token
    assert sealing.unseal(app_secret(app), link.sealed_token) == token
    assert link.created_at == NOW
    # Declined, then paid on a second try: each email links with the guest's token.
    started = pay(app, created)
    mock_confirm(app, started["payment_id"], CARD_DECLINED, created)
    assert mock_confirm(app, started["payment_id"], CARD_OK, created)["status"] == "succeeded"
    failed, confirmed = email_for(app, "payment_failed"), email_for(app, "payment_confirmed")
    link_url = f"{PUBLIC_URL}/bookings/{created['number']}?token={token}"
    assert f"(2 attempt(s) left): {link_url}\n" in failed.text
    assert f'href="{link_url}"' in failed.html and "Try again" in failed.html
    assert f"Your booking: {link_url}\n" in confirmed.text
    # Later events fired outside any request (a dispatcher, the documents check) and a refund.
    fire(
        app,
        "totetaxi_delivery_updated",
        created["id"],
        task=task(),
        status="assigned",
        key="update-1",
    )
    fire(app, "totetaxi_coi_attention", created["id"], document=None, reason="missing")
    _, staff = staff_member(app, "staff")
    _, admin = staff_member(app, "admin")
    approve(app, admin, request_refund(app, staff, started["payment_id"], 20000)["id"])
    later = [
        "payment_failed",
        "payment_confirmed",
        "delivery_assigned",
        "coi_missing",
        "refund_issued",
    ]
    assert templates_of(app) == sorted(["booking_received", *later])
    for key in later[:-1]:  # a refund's email has no link (its context still had it, sealed)
        assert link_tokens(created, email_for(app, key)) == {token}, key
    assert PUBLIC_URL + "/bookings" not in email_for(app, "refund_issued").text
    # The token in the email opens the booking.
    [found] = link_tokens(created, failed)
    answer = client(app).get(f"{BOOKINGS}/{created['id']}", {"token": found}, status=200).json
    assert answer["number"] == created["number"]
    # The database never keeps it readable: not on the emails, not on the kept link.
    assert_kept_without(token, notifications(app))
    assert all(token not in log.detail for log in logs(app))
    assert [row.sealed_token for row in guest_links(app)] == [link.sealed_token]


def test_the_booking_created_event_again_keeps_the_first_link(app):
    created = book_as_guest(app)
    [before] = guest_links(app)

    def created_again(ctx: Any) -> None:
        booking = ctx.dbsession.get(Booking, booking_id(created))
        for token in (created["tracking_token"], "not-the-token", None):
            ctx.call_hook("totetaxi_booking_created", booking=booking, tracking_token=token)

    run(app, created_again)
    [after] = guest_links(app)
    assert after.sealed_token == before.sealed_token
    assert templates_of(app) == ["booking_received"]


def test_a_customers_booking_keeps_no_guest_link_and_its_emails_no_token(app):
    _, headers = customer(app)
    created = book(app, customer_body(), headers)
    assert "tracking_token" not in created
    started = pay(app, created, headers)
    mock_confirm(app, started["payment_id"], CARD_DECLINED, headers=headers)
    assert mock_confirm(app, started["payment_id"], CARD_OK, headers=headers)["status"] == (
        "succeeded"
    )
    fire(
        app,
        "totetaxi_delivery_updated",
        created["id"],
        task=task(),
        status="assigned",
        key="update-1",
    )
    assert guest_links(app) == []
    assert templates_of(app) == [
        "booking_received",
        "delivery_assigned",
        "payment_confirmed",
        "payment_failed",
    ]
    for mail in emails(app):
        assert link_tokens(created, mail) == set()
        assert "token=" not in mail.text + mail.html
    assert all(SEALED not in row.context for row in notifications(app))


@pytest.mark.parametrize("damage", ["another secret", "not base64", "no link"])
def test_a_guest_link_that_cannot_be_opened_sends_the_email_without_the_token(app, damage, caplog):
    created = book_as_guest(app)
    token = created["tracking_token"]
    if damage == "no link":  # a booking made before the links were kept
        run(
            app,
            lambda ctx: ctx.dbsession.execute(
                delete(GuestLink).where(GuestLink.booking_id == booking_id(created))
            ),
        )
    else:  # the secret changed since (a development restart), or the row is damaged
        sealed = sealing.seal("another-secret", token) if damage == "another secret" else "abc"
        run(
            app,
            lambda ctx: ctx.dbsession.execute(
                update(GuestLink)
                .where(GuestLink.booking_id == booking_id(created))
                .values(sealed_token=sealed)
            ),
        )
    caplog.set_level("WARNING", logger="totetaxi.notifications")
    started = pay(app, created)
    mock_confirm(app, started["payment_id"], CARD_DECLINED, created)
    fire(
        app,
        "totetaxi_delivery_updated",
        created["id"],
        task=task(),
        status="assigned",
        key="update-1",
    )
    for key in ("payment_failed", "delivery_assigned"):
        [row] = notifications(app, Notification.template_key == key)
        assert row.status == "sent" and SEALED not in row.context
        assert row.context["booking"]["url"] == f"{PUBLIC_URL}/bookings/{created['number']}"
        mail = email_for(app, key)
        assert link_tokens(created, mail) == set() and token not in mail.text + mail.html
    warned = [r for r in caplog.records if "cannot be unsealed" in r.getMessage()]
    assert len(warned) == (0 if damage == "no link" else 2)
    assert all(token not in r.getMessage() for r in caplog.records)


# --- repeats send nothing new ---------------------------------------------------------------


@pytest.mark.both_databases
def test_a_replayed_webhook_sends_nothing_new(app):
    paid_booking(app)
    before = [(r.id, r.status, r.attempts) for r in notifications(app)]
    assert templates_of(app) == ["booking_received", "payment_confirmed"]
    [delivery] = [m for m in outbox(app, DELIVER_TASK) if "succeeded" in m.args[0]]
    payload, signature = delivery.args
    for _ in range(2):
        answer = post_webhook(app, payload.encode(), signature)
        assert answer.json["outcome"] == "duplicate"
    assert [(r.id, r.status, r.attempts) for r in notifications(app)] == before
    assert len(emails(app)) == 2 and sends(app) == 2


def test_the_same_event_fired_again_queues_nothing(app):
    created, started = paid_booking(app)
    assert sends(app) == 2

    def succeeded_again(ctx: Any) -> None:
        row = ctx.dbsession.get(Payment, uuid.UUID(started["payment_id"]))
        booking = ctx.dbsession.get(Booking, row.booking_id)
        ctx.call_hook("totetaxi_payment_succeeded", payment=row, booking=booking)
        ctx.call_hook(
            "totetaxi_booking_created", booking=booking, tracking_token=created["tracking_token"]
        )

    run(app, succeeded_again)
    run(app, succeeded_again)
    assert templates_of(app) == ["booking_received", "payment_confirmed"]
    assert len(emails(app)) == 2 and sends(app) == 2  # no send task was queued either


def test_the_send_task_run_again_sends_nothing(app):
    paid_booking(app)
    rows = notifications(app)
    for row in rows:
        assert send_now(app, row.id) == "nothing to send"
    registry = app.app.registry
    for message in outbox(app, services.SEND_TASK):
        assert message.status == OutboxStatus.DONE
        assert run_now(registry, message.id) is False  # its done mark stops a second run
    assert len(emails(app)) == 2
    assert [(r.id, r.attempts, r.provider_message_id) for r in notifications(app)] == [
        (r.id, 1, r.provider_message_id) for r in rows
    ]
    assert [len(logs(app, r.id)) for r in rows] == [1, 1]


# --- payments ------------------------------------------------------------------------------


@pytest.mark.both_databases
def test_a_declined_payment_emails_payment_failed_with_the_reason_each_attempt(app):
    created = book_as_guest(app)
    started = pay(app, created)
    for _ in range(3):
        mock_confirm(app, started["payment_id"], CARD_DECLINED, created)
    failed = sorted(
        notifications(app, Notification.template_key == "payment_failed"),
        key=lambda r: r.unique_key,
    )  # ends with the attempt number
    assert [(r.unique_key, r.recipient, r.status) for r in failed] == [
        (f"payment_failed:{started['payment_id']}:{n}", GUEST["email"], "sent") for n in (1, 2, 3)
    ]
    by_notification = {e.notification: e for e in emails(app)}
    assert len(by_notification) == 4
    texts = [by_notification[str(r.id)].text for r in failed]
    assert all(
        by_notification[str(r.id)].subject
        == (f"Your payment for booking {created['number']} did not go through")
        for r in failed
    )
    for text in texts:
        assert (
            f"Your payment of {TOTE} for booking {created['number']} did not go through: "
            "Your card was declined."
        ) in text
    assert "Please try again with another card (2 attempt(s) left)" in texts[0]
    assert "Please try again with another card (1 attempt(s) left)" in texts[1]
    assert "The booking has been cancelled." in texts[2] and "try again" not in texts[2]
    assert templates_of(app) == ["booking_received"] + ["payment_failed"] * 3


@pytest.mark.both_databases
def test_an_approved_refund_emails_refund_issued_with_the_amount(app):
    created, started = paid_booking(app)
    _, staff = staff_member(app, "staff")
    _, admin = staff_member(app, "admin")
    requested = request_refund(app, staff, started["payment_id"], 20000)
    assert templates_of(app) == ["booking_received", "payment_confirmed"]  # not yet refunded
    approve(app, admin, requested["id"])
    [row] = notifications(app, Notification.template_key == "refund_issued")
    assert (row.recipient, row.status, row.unique_key) == (
        GUEST["email"],
        "sent",
        f"refund_issued:{requested['id']}",
    )
    assert row.context["refund"] == {"amount": "$200.00", "amount_cents": 20000}
    mail = email_for(app, "refund_issued")
    assert mail.to == GUEST["email"]
    assert mail.subject == f"Refund of $200.00 for booking {created['number']}"
    assert f"We refunded $200.00 for booking {created['number']} to your card." in mail.text
    assert len(emails(app)) == 3


# --- deliveries, documents, certificates ----------------------------------------------------


def task(**extra: Any) -> SimpleNamespace:
    fields = {
        "id": uuid.uuid4(),
        "kind": "pickup",
        "driver_name": "Sam",
        "eta": ny(2026, 12, 3, 14, 30),
        "complete_after": None,
        "complete_before": None,
        "failure_reason": "",
    }
    return SimpleNamespace(**{**fields, **extra})


@pytest.mark.parametrize(
    ("status", "template_key", "subject", "line"),
    [
        (
            "assigned",
            "delivery_assigned",
            "A driver is assigned to booking {number}",
            "Sam will pick up your items on Thursday, December 3, 2026, Morning (8 AM – 12 PM).",
        ),
        (
            "picked_up",
            "delivery_picked_up",
            "Your items are on their way ({number})",
            "We picked up your items and they are on their way to 12 Dune Rd, Southampton, NY 11968."  # noqa: E501
            " Expected arrival: 2:30 PM.",
        ),
        (
            "delivered",
            "delivery_delivered",
            "Delivered: booking {number}",
            "Your items were delivered to 12 Dune Rd, Southampton, NY 11968.",
        ),
        (
            "failed",
            "delivery_failed",
            "We could not complete booking {number}",
            "We could not complete the delivery of booking {number} today.",
        ),
    ],
)
def test_a_delivery_update_emails_its_template(app, status, template_key, subject, line):
    created = book_as_guest(app)
    number = created["number"]
    the_task = task()
    fire(app, "totetaxi_delivery_updated", created["id"], task=the_task, status=status, key="e-1")
    [row] = notifications(app, Notification.template_key != "booking_received")
    assert (row.template_key, row.recipient, row.status, row.unique_key) == (
        template_key,
        GUEST["email"],
        "sent",
        f"{template_key}:e-1",
    )
    assert row.context["delivery"] == {
        "status": status,
        "kind": "pickup",
        "driver_name": "Sam",
        "eta": "2:30 PM",
        "window": "",
    }
    mail = email_for(app, template_key)
    assert mail.to == GUEST["email"] and mail.subject == subject.format(number=number)
    assert line.format(number=number) in mail.text
    # The same update again (a dispatcher's webhook retried) sends nothing new.
    fire(app, "totetaxi_delivery_updated", created["id"], task=the_task, status=status, key="e-1")
    assert len(emails(app)) == 2 and len(notifications(app)) == 2


def test_a_delivery_update_without_an_eta_or_driver_reads_well(app):
    created = book_as_guest(app)
    fire(
        app,
        "totetaxi_delivery_updated",
        created["id"],
        task=SimpleNamespace(id=uuid.uuid4(), driver_name=None, eta=None),
        status="assigned",
        key="a-1",
    )
    fire(
        app,
        "totetaxi_delivery_updated",
        created["id"],
        task=SimpleNamespace(id=uuid.uuid4(), driver_name="", eta=None),
        status="picked_up",
        key="p-1",
    )
    assert "Our driver will pick up your items on" in email_for(app, "delivery_assigned").text
    assert "Expected arrival" not in email_for(app, "delivery_picked_up").text


@pytest.mark.parametrize("status", ["en_route", "created", "", "ASSIGNED"])
def test_a_delivery_status_without_a_template_emails_nobody(app, status):
    created = book_as_guest(app)
    fire(
        app, "totetaxi_delivery_updated", created["id"], task=task(), status=status, key="update-1"
    )
    assert templates_of(app) == ["booking_received"] and len(emails(app)) == 1
    assert sends(app) == 1


def coi(**extra: Any) -> SimpleNamespace:
    fields = {
        "id": uuid.uuid4(),
        "category": "coi",
        "filename": "coi-lobby.pdf",
        "expires_on": dt.date(2026, 12, 1),
        "review_note": "It names the wrong building.",
    }
    return SimpleNamespace(**{**fields, **extra})


@pytest.mark.both_databases
def test_a_rejected_certificate_asks_for_one(app):
    created = book_as_guest(app)
    document = coi()
    fire(app, "totetaxi_document_reviewed", created["id"], document=document, decision="rejected")
    [row] = notifications(app, Notification.template_key == "coi_missing")
    assert (row.recipient, row.unique_key) == (GUEST["email"], f"coi_rejected:{document.id}")
    mail = email_for(app, "coi_missing")
    assert mail.subject == f"Certificate of insurance needed for booking {created['number']}"
    assert "About the one you sent: It names the wrong building." in mail.text
    fire(app, "totetaxi_document_reviewed", created["id"], document=document, decision="rejected")
    assert len(emails(app)) == 2


@pytest.mark.parametrize(
    ("document", "decision"),
    [
        (coi(), "approved"),
        (coi(category="id"), "rejected"),
        (SimpleNamespace(id=uuid.uuid4(), filename="x.pdf"), "rejected"),  # no category at all
    ],
)
def test_an_approved_certificate_or_another_document_emails_nobody(app, document, decision):
    created = book_as_guest(app)
    fire(app, "totetaxi_document_reviewed", created["id"], document=document, decision=decision)
    assert templates_of(app) == ["booking_received"] and len(emails(app)) == 1


@pytest.mark.both_databases
def test_a_certificate_expiring_before_the_move(app):
    created = book_as_guest(app)
    document = coi()
    fire(app, "totetaxi_coi_attention", created["id"], document=document, reason="expiring")
    [row] = notifications(app, Notification.template_key == "coi_expiring")
    assert row.unique_key == f"coi_expiring:{created['id']}:{document.id}:2026-12-03"
    mail = email_for(app, "coi_expiring")
    assert mail.to == GUEST["email"]
    assert (
        f"The certificate of insurance we have for booking {created['number']} expires on "
        "December 1, 2026, before your move on Thursday, December 3, 2026."
    ) in mail.text
    fire(app, "totetaxi_coi_attention", created["id"], document=document, reason="expiring")
    assert len(emails(app)) == 2


@pytest.mark.both_databases
def test_a_missing_certificate_without_any_document(app):
    me, headers = customer(app)
    created = book(app, customer_body(), headers)
    for _ in range(2):  # the documents plugin's daily check: one email, not one a day
        fire(app, "totetaxi_coi_attention", created["id"], document=None, reason="missing")
    [row] = notifications(app, Notification.template_key == "coi_missing")
    assert (row.recipient, row.customer_id, row.unique_key) == (
        me["email"],
        uuid.UUID(me["id"]),
        f"coi_missing:{created['id']}:none:2026-12-03",  # per pickup date: a move tells again
    )
    mail = email_for(app, "coi_missing")
    assert "we do not have an accepted one yet." in mail.text
    assert "About the one you sent" not in mail.text
    fire(app, "totetaxi_coi_attention", created["id"], document=None, reason="lost")
    assert templates_of(app) == ["booking_received", "coi_missing"]


# --- password reset -------------------------------------------------------------------------


def test_a_password_reset_emails_a_working_link_that_the_database_does_not_keep(app):
    browser = TestApp(app.app, extra_environ={"REMOTE_ADDR": "127.0.0.1"})
    me, _ = customer(app)
    client(app).post_json("/api/v1/auth/password-reset", {"email": me["email"].upper()}, status=202)
    [row] = notifications(app)
    assert (row.template_key, row.recipient, row.customer_id, row.booking_id, row.status) == (
        "password_reset",
        me["email"],
        uuid.UUID(me["id"]),
        None,
        "sent",
    )
    [mail] = emails(app)
    assert mail.to == me["email"] and mail.subject == "Reset your ToteTaxi password"
    found = re.findall(
        re.escape(PUBLIC_URL) + r"/reset-password\?token=([A-Za-z0-9_\-]+)", mail.text
    )
    assert len(found) == 1
    token = found[0]
    assert f'href="{PUBLIC_URL}/reset-password?token={token}"' in mail.html
    assert "within 60 minutes" in mail.text
    # The database keeps what was sent with the link erased, and no sealed copy either.
    stored = json.dumps(row.context) + row.subject + row.text_body + row.html_body
    assert token not in stored and SEALED not in row.context
    assert row.context["reset_url"] == REDACTED and REDACTED in row.text_body
    # The link works (once).
    browser.post_json(
        "/api/v1/auth/password-reset/confirm",
        {"token": token, "password": NEW_PASSWORD},
        status=204,
    )
    browser.post_json(
        "/api/v1/auth/token", {"email": me["email"], "password": NEW_PASSWORD}, status=200
    )
    browser.post_json(
        "/api/v1/auth/password-reset/confirm",
        {"token": token, "password": NEW_PASSWORD + "x"},
        status=400,
    )


@pytest.mark.both_databases
def test_each_reset_request_is_its_own_email_and_an_unknown_address_gets_none(app):
    me, _ = customer(app)
    for _ in range(2):
        client(app).post_json("/api/v1/auth/password-reset", {"email": me["email"]}, status=202)
    client(app).post_json(
        "/api/v1/auth/password-reset", {"email": "nobody@example.com"}, status=202
    )
    rows = notifications(app)
    assert [r.template_key for r in rows] == ["password_reset", "password_reset"]
    assert len({r.unique_key for r in rows}) == 2
    assert [e.to for e in emails(app)] == [me["email"], me["email"]]
    tokens = [re.search(r"token=([A-Za-z0-9_\-]+)", e.text).group(1) for e in emails(app)]
    assert len(set(tokens)) == 2


# --- nothing to send -------------------------------------------------------------------------


class Boom(Exception):
    pass


def test_an_event_in_a_transaction_that_rolls_back_queues_and_sends_nothing(app):
    created = book_as_guest(app)
    assert sends(app) == 1

    def fails_after_the_event(ctx: Any) -> None:
        booking = ctx.dbsession.get(Booking, booking_id(created))
        ctx.call_hook(
            "totetaxi_delivery_updated",
            task=task(),
            booking=booking,
            status="delivered",
            key="update-1",
        )
        ctx.call_hook("totetaxi_coi_attention", booking=booking, document=None, reason="missing")
        ctx.dbsession.flush()
        assert (
            ctx.dbsession.scalar(
                select(Notification.id).where(Notification.template_key == "delivery_delivered")
            )
            is not None
        )  # it was queued
        raise Boom("the event's transaction fails after the hooks ran")

    with pytest.raises(Boom):
        run(app, fails_after_the_event)
    assert templates_of(app) == ["booking_received"]
    assert sends(app) == 1 and len(emails(app)) == 1


def test_an_event_without_a_recipient_queues_nothing(app):
    created = book_as_guest(app)
    set_booking(app, created, guest_email="")
    fire(
        app,
        "totetaxi_delivery_updated",
        created["id"],
        task=task(),
        status="delivered",
        key="update-1",
    )
    fire(app, "totetaxi_coi_attention", created["id"], document=None, reason="missing")
    assert templates_of(app) == ["booking_received"]
    assert sends(app) == 1 and len(emails(app)) == 1


def test_a_guest_booking_whose_address_is_only_spaces_queues_nothing(app):
    created = book_as_guest(app)
    set_booking(app, created, guest_email="   ")
    fire(
        app,
        "totetaxi_delivery_updated",
        created["id"],
        task=task(),
        status="failed",
        key="update-1",
    )
    assert templates_of(app) == ["booking_received"] and sends(app) == 1


@pytest.mark.both_databases
def test_services_queue_lowercases_and_refuses_an_empty_recipient(app):
    def queue(ctx: Any, recipient: str, key: str) -> Any:
        return services.queue(
            ctx, unique_key=key, template_key="password_reset", recipient=recipient, variables={}
        )

    assert run(app, lambda ctx: queue(ctx, "", "k-empty")) is None
    assert run(app, lambda ctx: queue(ctx, " \t", "k-blank")) is None
    new_id = run(app, lambda ctx: queue(ctx, "  Mixed.Case@Example.COM ", "k-mixed"))
    assert isinstance(new_id, uuid.UUID)
    row = notification(app, new_id)
    assert row.recipient == "mixed.case@example.com" and row.unique_key == "k-mixed"
    assert [r.unique_key for r in fetch(app, select(Notification))] == ["k-mixed"]
