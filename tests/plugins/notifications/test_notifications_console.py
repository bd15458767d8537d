"""The notifications console: the email log and an email's page (resend, release), the template
editor with its live preview, and the development mailer's Mailbox.

The app runs with the pricing plugin, the mock payment gateway and the development mailer
(``mail_console``, which brings ``notifications``), tasks eager, on the fixed clock of
test_bookings: Monday 2026-11-23 10:00 New York. A guest books a Petite Mini Move for Thursday
2026-12-03 and pays it through the API with the test card 4242: the booking's two emails
("Booking received", "Payment confirmed") are sent at once, as .eml files in the test's folder.

Staff sign in with a cookie session (test_console's helpers) and post the pages' own forms, which
carry the CSRF token.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from support.console import audit_rows, csrf, nav_titles, staff_browser
from support.payments import (
    CARD_OK,
    NOW,
    book,
    cheap_passwords,
    fetch,
    guest_body,
    mock_confirm,
    paid_booking,
    pay,
    run,
    set_clock,
)
from totetaxi_notifications import console, services
from totetaxi_notifications.defaults import DEFAULTS
from totetaxi_notifications.interfaces import MailerError
from totetaxi_notifications.models import (
    DeliveryLog,
    EmailTemplate,
    Notification,
)
from webtest import TestApp

from totetaxi_core.plugin_api import find_service

LOG = "/console/notifications"
TEMPLATES = "/console/notifications/templates"
MAILBOX = "/console/mailbox"
MISSING_ID = "00000000-0000-4000-8000-000000000000"
XSS = "<script>alert(1)</script>"
GUEST_EMAIL = "gale@example.com"  # test_bookings' guest


# --- helpers -------------------------------------------------------------------------------------


@pytest.fixture
def app(make_testapp, monkeypatch, tmp_path) -> TestApp:
    cheap_passwords(monkeypatch)
    testapp = make_testapp(
        **{
            "totetaxi.plugins": "pricing payments_mock mail_console",
            "mail_console.folder": str(tmp_path / "mail"),
            "totetaxi.login_limit_per_address": 10000,
        }
    )
    set_clock(testapp, NOW)
    return testapp


def text_of(page: Any, name: str) -> str:
    """The text of the first element with ``data-testid=name`` (spaces collapsed)."""
    found = page.html.find(attrs={"data-testid": name})
    assert found is not None, f"no data-testid={name!r} on the page"
    return " ".join(found.get_text(" ").split())


def sandboxed(frame: Any) -> bool:
    """The iframe has ``sandbox=""`` (BeautifulSoup reads the attribute as an empty list)."""
    return frame.get("sandbox") in ("", [])


def has(page: Any, name: str) -> bool:
    return f'data-testid="{name}"' in page.text


def listed(page: Any) -> list[str]:
    """The ids of the notifications on a page of the log, in order."""
    return re.findall(r'<tr data-notification="([^"]+)"', page.text)


def emails(app: TestApp) -> list[dict[str, Any]]:
    """Every notification as plain values, oldest first."""
    return [
        {
            "id": str(n.id),
            "template": n.template_key,
            "status": str(n.status),
            "recipient": n.recipient,
            "attempts": n.attempts,
            "subject": n.subject,
            "booking_id": str(n.booking_id) if n.booking_id else None,
            "last_error": n.last_error,
        }
        for n in fetch(
            app, select(Notification).order_by(Notification.created_at, Notification.template_key)
        )
    ]


def email_of(app: TestApp, template: str, booking: dict[str, Any] | None = None) -> dict:
    [found] = [
        e
        for e in emails(app)
        if e["template"] == template and (booking is None or e["booking_id"] == booking["id"])
    ]
    return found


def template_row(app: TestApp, key: str) -> EmailTemplate:
    [row] = fetch(app, select(EmailTemplate).where(EmailTemplate.key == key))
    return row


def delivery_kinds(app: TestApp, notification_id: str) -> list[tuple[str, str]]:
    return [
        (d.kind, d.outcome)
        for d in fetch(
            app,
            select(DeliveryLog)
            .where(DeliveryLog.notification_id == uuid.UUID(notification_id))
            .order_by(DeliveryLog.at),
        )
    ]


@contextlib.contextmanager
def mailer_refusing(app: TestApp) -> Iterator[None]:
    """The console mailer refuses every message for good (a permanent provider error)."""
    mailer = find_service(app.app.registry, "mail_console.mailer")

    def refuse(message: Any) -> str:
        raise MailerError("the provider refused the sender", permanent=True)

    mailer.send = refuse
    try:
        yield
    finally:
        del mailer.send


def guest_paid_booking(app: TestApp, **guest: str) -> dict[str, Any]:
    """A guest's booking paid with 4242; ``guest`` overrides fields of the guest's contact."""
    body = guest_body()
    body["guest"] = {**body["guest"], **guest}
    created = book(app, body)
    started = pay(app, created)
    assert mock_confirm(app, started["payment_id"], CARD_OK, created)["status"] == "succeeded"
    return created


def failed_booking(app: TestApp) -> tuple[dict[str, Any], dict[str, Any]]:
    """A paid booking whose two emails failed; (booking, its payment_confirmed email)."""
    with mailer_refusing(app):
        booking, _ = paid_booking(app)
    email = email_of(app, "payment_confirmed", booking)
    assert email["status"] == "failed"
    return booking, email


def editor(browser: TestApp, key: str, status: int = 200) -> Any:
    return browser.get(f"{TEMPLATES}/{key}", status=status)


def save(browser: TestApp, key: str, status: int | str = 303, **parts: str) -> Any:
    """Fill the editor's form of ``key`` with ``parts`` and save it."""
    form = editor(browser, key).forms["template-form"]
    for name, value in parts.items():
        form[name] = value
    return form.submit(status=status)


def preview(
    browser: TestApp, key: str, status: int = 200, token: str | None = None, **parts: str
) -> Any:
    headers = {
        "X-CSRF-Token": csrf(browser) if token is None else token,
        "Accept": "application/json",
    }
    return browser.post(f"{TEMPLATES}/{key}/preview", parts, headers=headers, status=status)


# --- the log -------------------------------------------------------------------------------------


def test_the_log_lists_the_emails_of_a_paid_booking_with_counts(app):
    booking, _ = paid_booking(app)
    page = staff_browser(app, "viewer").get(LOG)
    sent = {e["id"]: e for e in emails(app)}
    assert sorted(listed(page)) == sorted(sent)
    assert {e["template"] for e in sent.values()} == {"booking_received", "payment_confirmed"}
    assert {e["status"] for e in sent.values()} == {"sent"}
    assert text_of(page, "count-all") == "2 All"
    assert text_of(page, "count-sent") == "2 Sent"
    assert text_of(page, "count-failed") == "0 Failed"
    for notification_id in sent:
        assert f'href="http://localhost{LOG}/{notification_id}"' in page.text
    assert booking["number"] in page.text
    assert "We received your booking" in page.text  # the subject as sent
    assert page.html.find("a", string="Emails")["aria-current"] == "page"


def test_failed_emails_are_counted_and_highlighted(app):
    failed_booking(app)
    page = staff_browser(app, "viewer").get(LOG)
    assert text_of(page, "count-failed") == "2 Failed"
    assert 'class="alert' in str(page.html.find(attrs={"data-testid": "count-failed"}))
    assert page.text.count('data-status="failed" class="failed"') == 2
    assert "the provider refused the sender" in text_of(page, "last-error")


def test_each_filter_narrows_the_log(app):
    first, _ = paid_booking(app)
    second = guest_paid_booking(app, email="Robin.Other@Example.org")
    browser = staff_browser(app, "viewer")
    everything = emails(app)
    assert len(listed(browser.get(LOG))) == 4

    def ids(**query: str) -> set[str]:
        return set(listed(browser.get(LOG, params=query)))

    of_first = {e["id"] for e in everything if e["booking_id"] == first["id"]}
    assert len(of_first) == 2
    assert ids(booking=first["number"]) == of_first
    assert ids(booking=first["number"].lower().replace("tt-", "")) == of_first  # "000001"
    assert ids(booking=first["id"]) == of_first
    assert ids(booking=MISSING_ID) == set()
    assert ids(booking="TT-999999") == set()
    assert ids(recipient=GUEST_EMAIL) == of_first  # exact
    assert ids(recipient="ROBIN.other") == {
        e["id"] for e in everything if e["booking_id"] == second["id"]
    }  # partial
    assert ids(recipient="example") == {e["id"] for e in everything}
    assert ids(recipient="%") == set()  # a wildcard is a character like any other
    assert ids(status="sent") == {e["id"] for e in everything}
    assert ids(status="failed") == set()
    confirmed = {e["id"] for e in everything if e["template"] == "payment_confirmed"}
    assert ids(template="payment_confirmed") == confirmed
    assert ids(template="payment_confirmed", booking=second["number"]) == {
        email_of(app, "payment_confirmed", second)["id"]
    }
    page = browser.get(LOG, params={"status": "failed"})
    assert has(page, "no-notifications")


@pytest.mark.both_databases  # NUL bytes: PostgreSQL refuses them in text
@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"status": "bogus"}, "status", "Status: one of queued, retrying, sent, failed, held."),
        ({"booking": "not a booking"}, "booking", "Booking: a number like TT-000123"),
        ({"template": "../etc"}, "template", "Template: choose one from the list."),
        ({"cursor": "garbage"}, "cursor", "This page link is damaged"),
        ({"limit": "500"}, "limit", "limit must be a whole number from 1 to 50."),
    ],
)
def test_a_bad_filter_is_a_400_with_the_reason(app, query, field, message):
    paid_booking(app)
    page = staff_browser(app, "viewer").get(LOG, params=query, status=400)
    assert message in text_of(page, f"error-{field}")
    assert has(page, "filters-refused")
    assert not has(page, "notifications-table")


@pytest.mark.both_databases
def test_a_nul_in_a_filter_is_refused_before_the_page(app):
    # The core's input guard answers before any view (one check for every page and endpoint).
    page = staff_browser(app, "viewer").get(LOG, params={"recipient": "a\x00b"}, status=400)
    assert "recipient: NUL characters are not allowed." in page.text


@pytest.mark.both_databases
def test_the_log_pages_with_keyset_links_that_keep_the_filters(app):
    paid_booking(app)
    guest_paid_booking(app, email="robin@example.org")
    browser = staff_browser(app, "viewer")
    everything = listed(browser.get(LOG))
    assert len(everything) == 4
    seen: list[str] = []
    page = browser.get(LOG, params={"limit": "3", "recipient": "example"})
    seen += listed(page)
    assert len(seen) == 3 and not has(page, "first-page")
    next_url = page.html.find(attrs={"data-testid": "next-page"})["href"]
    assert "recipient=example" in next_url and "limit=3" in next_url
    page = browser.get(next_url)
    seen += listed(page)
    assert not has(page, "next-page")
    assert "recipient=example" in page.html.find(attrs={"data-testid": "first-page"})["href"]
    assert seen == everything  # newest first, nothing twice, nothing left out


def test_the_log_needs_a_staff_sign_in(app):
    answer = TestApp(app.app).get(LOG, status=302)
    assert "/console/login" in answer.location


def test_the_booking_page_lists_its_emails_with_links(app):
    booking, _ = paid_booking(app)
    page = staff_browser(app, "viewer").get(f"/console/bookings/{booking['id']}")
    panel = text_of(page, "emails-panel")
    assert "Booking received" in panel and "Payment confirmed" in panel
    for email in emails(app):
        assert f'href="{LOG}/{email["id"]}"' in page.text
    assert f"{LOG}?booking={booking['id']}" in page.text


def test_the_navigation_has_emails_templates_and_the_mailbox_for_a_viewer(app):
    titles = nav_titles(staff_browser(app, "viewer").get("/console/"))
    assert [t for t in titles if t in ("Emails", "Email templates", "Mailbox")] == [
        "Emails",
        "Email templates",
        "Mailbox",
    ]


# --- an email's page -----------------------------------------------------------------------------


def test_the_page_of_an_email_shows_what_was_sent(app):
    booking, _ = paid_booking(app)
    email = email_of(app, "payment_confirmed")
    page = staff_browser(app, "viewer").get(f"{LOG}/{email['id']}")
    assert text_of(page, "recipient") == GUEST_EMAIL
    assert text_of(page, "status") == "Sent"
    assert text_of(page, "attempts") == "1"
    assert text_of(page, "provider").startswith("console console-")
    assert text_of(page, "booking-link") == booking["number"]
    assert text_of(page, "subject") == f"Booking {booking['number']} is confirmed"
    body = text_of(page, "text-body")
    assert "We received your payment of $995.00" in body
    frame = page.html.find("iframe", attrs={"data-testid": "html-body"})
    assert sandboxed(frame)
    assert "We received your payment of <strong>$995.00</strong>" in frame["srcdoc"]
    assert [
        row["data-kind"] for row in page.html.select("[data-testid=delivery-log] tbody tr")
    ] == ["attempt"]
    assert has(page, "no-actions") and not has(page, "resend-form")


def test_a_guest_name_with_markup_is_shown_escaped_and_the_html_runs_nothing(app):
    guest_paid_booking(app, first_name=XSS)
    email = email_of(app, "payment_confirmed")
    page = staff_browser(app, "staff").get(f"{LOG}/{email['id']}")
    assert XSS not in page.text
    # No inline script: the layout's own files only (live.js), none from the email.
    scripts = page.html.find_all("script")
    assert all(s.get("src", "").startswith("/console/static/") and not s.string for s in scripts)
    assert "Hello &lt;script&gt;alert(1)&lt;/script&gt;," in page.text  # the text body
    [frame] = page.html.find_all("iframe")
    assert sandboxed(frame)
    # Escaped by the email's template, then again into the attribute: inert text in the frame.
    assert "Hello &lt;script&gt;alert(1)&lt;/script&gt;," in frame["srcdoc"]
    assert "&amp;lt;script&amp;gt;" in page.text


def test_an_unknown_or_malformed_email_id_is_404(app):
    browser = staff_browser(app, "viewer")
    browser.get(f"{LOG}/{MISSING_ID}", status=404)
    browser.get(f"{LOG}/not-an-id", status=404)


# --- resending -----------------------------------------------------------------------------------


def test_staff_resend_a_failed_email_and_it_is_sent(app):
    booking, email = failed_booking(app)
    browser = staff_browser(app, "staff")
    page = browser.get(f"{LOG}/{email['id']}")
    assert text_of(page, "status") == "Failed"
    assert "the provider refused the sender" in text_of(page, "last-error")
    assert text_of(page, "subject") == f"Booking {booking['number']} is confirmed"  # not sent
    answer = page.forms["resend-form"].submit(status=303)
    assert answer.location == f"http://localhost{LOG}/{email['id']}?done=resent"
    page = answer.follow()
    assert text_of(page, "flash").startswith("The email is queued again")
    assert text_of(page, "status") == "Sent"
    again = email_of(app, "payment_confirmed")
    assert again["status"] == "sent" and again["attempts"] == 1
    assert delivery_kinds(app, email["id"]) == [
        ("attempt", "error"),
        ("resend", "queued"),
        ("attempt", "sent"),
    ]
    [audit] = audit_rows(app, "notification.resent")
    assert audit["actor_id"] == browser.member.id and audit["target_id"] == email["id"]
    assert audit["changes"]["before"]["status"] == "failed"
    # The other failed email is untouched.
    assert email_of(app, "booking_received")["status"] == "failed"


def test_a_viewer_sees_no_resend_form_and_may_not_resend(app):
    _, email = failed_booking(app)
    browser = staff_browser(app, "viewer")
    page = browser.get(f"{LOG}/{email['id']}")
    assert not has(page, "resend-form") and has(page, "read-only")
    browser.post(
        f"{LOG}/{email['id']}/resend",
        {"csrf_token": csrf(browser), "form_token": uuid.uuid4().hex},
        status=403,
    )
    assert email_of(app, "payment_confirmed")["status"] == "failed"
    assert audit_rows(app, "notification.resent") == []


@pytest.mark.parametrize("token", [None, "", "forged"])
def test_a_resend_without_the_csrf_token_is_refused(app, token):
    _, email = failed_booking(app)
    browser = staff_browser(app, "staff")
    fields = {"form_token": uuid.uuid4().hex}
    if token is not None:
        fields["csrf_token"] = token
    page = browser.post(f"{LOG}/{email['id']}/resend", fields, status=403)
    assert "form expired" in text_of(page, "forbidden-reason")
    assert email_of(app, "payment_confirmed")["status"] == "failed"
    assert audit_rows(app, "notification.resent") == []


@pytest.mark.both_databases
def test_a_double_submit_of_the_resend_form_resends_once(app):
    _, email = failed_booking(app)
    browser = staff_browser(app, "staff")
    form = browser.get(f"{LOG}/{email['id']}").forms["resend-form"]
    with mailer_refusing(app):  # it fails again, so a second resend would be allowed
        first = form.submit(status=303)
        second = form.submit(status=303)
    assert first.location == second.location
    assert email_of(app, "payment_confirmed")["status"] == "failed"
    assert delivery_kinds(app, email["id"]).count(("resend", "queued")) == 1
    assert len(audit_rows(app, "notification.resent")) == 1
    # A fresh form (a new token) resends again.
    browser.get(f"{LOG}/{email['id']}").forms["resend-form"].submit(status=303)
    assert email_of(app, "payment_confirmed")["status"] == "sent"
    assert len(audit_rows(app, "notification.resent")) == 2


def test_a_sent_email_cannot_be_resent(app):
    paid_booking(app)
    email = email_of(app, "payment_confirmed")
    browser = staff_browser(app, "staff")
    page = browser.post(
        f"{LOG}/{email['id']}/resend",
        {"csrf_token": csrf(browser), "form_token": uuid.uuid4().hex},
        status=409,
    )
    assert "only a failed or held email can be resent" in text_of(page, "form-refused")
    assert audit_rows(app, "notification.resent") == []


def test_a_held_address_is_shown_released_and_the_email_resent(app):
    run(app, lambda ctx: services.hold_address(ctx, GUEST_EMAIL, "bounce", "mailbox unknown"))
    paid_booking(app)
    email = email_of(app, "payment_confirmed")
    assert email["status"] == "held"
    viewer = staff_browser(app, "viewer")
    page = viewer.get(f"{LOG}/{email['id']}")
    assert GUEST_EMAIL in text_of(page, "held") and "bounce" in text_of(page, "held")
    assert not has(page, "release-form")
    viewer.post(f"{LOG}/{email['id']}/release", {"csrf_token": csrf(viewer)}, status=403)

    browser = staff_browser(app, "staff")
    page = browser.get(f"{LOG}/{email['id']}")
    answer = page.forms["release-form"].submit(status=303)
    assert answer.location.endswith("?done=released")
    page = answer.follow()
    assert text_of(page, "flash").startswith("The address is released")
    assert not has(page, "held")
    [audit] = audit_rows(app, "notification.address_released")
    assert audit["target_id"] == GUEST_EMAIL and audit["actor_id"] == browser.member.id
    # Releasing again changes nothing and says so.
    answer = browser.post(f"{LOG}/{email['id']}/release", {"csrf_token": csrf(browser)}, status=303)
    assert answer.location.endswith("?done=not_held")
    page.forms["resend-form"].submit(status=303)
    assert email_of(app, "payment_confirmed")["status"] == "sent"


# --- the templates -------------------------------------------------------------------------------


def test_the_templates_page_lists_every_template(app):
    page = staff_browser(app, "viewer").get(TEMPLATES)
    keys = [row["data-key"] for row in page.html.select("[data-testid=templates-table] tbody tr")]
    assert sorted(keys) == sorted(d.key for d in DEFAULTS)
    assert "A payment settled and the booking is confirmed." in page.text
    assert f'href="http://localhost{TEMPLATES}/payment_confirmed"' in page.text


@pytest.mark.parametrize("default", DEFAULTS, ids=lambda d: d.key)
def test_every_default_template_renders_with_its_declared_variables(app, default):
    """The editor checks a template against the variables it declares: each default passes."""
    rendered, errors = run(
        app,
        lambda ctx: console.render_parts(
            {
                "subject": default.subject,
                "text_body": default.text_body,
                "html_body": default.html_body,
            },
            console.preview_variables(ctx, template_row(app, default.key)),
        ),
    )
    assert errors == {}
    assert rendered["subject"] and rendered["text"] and rendered["html"]


def test_the_editor_shows_the_parts_the_variables_and_a_preview(app):
    paid_booking(app)
    page = editor(staff_browser(app, "viewer"), "payment_confirmed")
    form = page.forms["template-form"]
    template = template_row(app, "payment_confirmed")
    assert form["subject"].value == template.subject
    assert form["text_body"].value == template.text_body
    assert form["html_body"].value == template.html_body
    assert "payment.amount" in text_of(page, "variables")
    assert "booking.number" in text_of(page, "variables")
    assert text_of(page, "preview-subject") == "Booking TT-000001 is confirmed"
    assert "We received your payment of $995.00" in text_of(page, "preview-text")
    frame = page.html.find("iframe", attrs={"data-testid": "preview-html"})
    assert sandboxed(frame) and "$995.00" in frame["srcdoc"]
    assert has(page, "read-only") and "Save template" not in page.text
    assert page.html.find("script") is not None  # the live preview


def test_staff_save_a_valid_edit_and_the_next_email_uses_it(app):
    browser = staff_browser(app, "staff")
    before = template_row(app, "payment_confirmed")
    answer = save(
        browser,
        "payment_confirmed",
        subject="Paid in full: {{ booking.number }} ({{ payment.amount }})",
    )
    assert answer.location == f"http://localhost{TEMPLATES}/payment_confirmed?done=template_saved"
    page = answer.follow()
    assert text_of(page, "flash") == "Template saved; the next emails use it."
    after = template_row(app, "payment_confirmed")
    assert after.version == before.version + 1 == int(text_of(page, "version"))
    assert after.subject == "Paid in full: {{ booking.number }} ({{ payment.amount }})"
    assert (after.text_body, after.html_body) == (before.text_body, before.html_body)
    assert after.updated_by == browser.member.id
    [audit] = audit_rows(app, "notification_template.updated")
    assert audit["actor_id"] == browser.member.id and audit["target_id"] == "payment_confirmed"
    assert audit["changes"] == {
        "before": {"subject": before.subject, "version": before.version},
        "after": {"subject": after.subject, "version": after.version},
    }
    listing = browser.get(TEMPLATES)
    assert "by Staff Tester · version 2" in " ".join(listing.text.split())

    booking, _ = paid_booking(app)
    assert email_of(app, "payment_confirmed", booking)["subject"] == (
        f"Paid in full: {booking['number']} ($995.00)"
    )


def test_saving_the_same_text_changes_nothing(app):
    answer = save(staff_browser(app, "staff"), "booking_received")
    assert answer.location.endswith("?done=template_unchanged")
    assert template_row(app, "booking_received").version == 1
    assert audit_rows(app, "notification_template.updated") == []


@pytest.mark.parametrize(
    ("part", "source", "message"),
    [
        ("subject", "{{ ''.__class__.__mro__ }}", "Subject: not allowed in a template"),
        (
            "text_body",
            "Hello {{ ''.__class__.__mro__[1].__subclasses__() }}",
            "Text body: not allowed in a template",
        ),
        ("text_body", "Booking {{ booking.nope }}", "unknown variable 'booking.nope'"),
        ("html_body", "<p>{% if %}</p>", "HTML body:"),
        ("subject", "{{ booking.number ", "Subject:"),
        # Not a variable of this email: "Booking received" has no payment yet.
        ("text_body", "You paid {{ payment.amount }}", "unknown variable 'payment'"),
        ("text_body", "{{ 'x' * 100000 }}", "too long"),
        # In a branch the sample does not take: refused all the same.
        (
            "text_body",
            "{% if booking.status == 'nope' %}{{ booking.nmuber }}{% endif %}",
            "unknown variable 'booking.nmuber'",
        ),
        ("html_body", "{% if false %}{{ refund.amount }}{% endif %}", "unknown variable 'refund'"),
        ("text_body", "{{ booking.number|nosuchfilter }}", "No filter named 'nosuchfilter'"),
        ("text_body", "{{ booking.number.ljust(10**9)|length }}", "ljust would make a value"),
    ],
)
def test_a_template_that_does_not_render_is_refused_next_to_its_field(app, part, source, message):
    browser = staff_browser(app, "staff")
    before = template_row(app, "booking_received")
    page = save(browser, "booking_received", status=400, **{part: source})
    assert message in text_of(page, f"error-{part}")
    assert has(page, "form-refused")
    assert page.forms["template-form"][part].value == source  # kept to be fixed
    after = template_row(app, "booking_received")
    assert (after.version, getattr(after, part)) == (before.version, getattr(before, part))
    assert audit_rows(app, "notification_template.updated") == []


@pytest.mark.both_databases  # NUL bytes: PostgreSQL refuses them in text
@pytest.mark.parametrize(
    ("part", "value", "message"),
    [
        ("subject", "x" * 301, "Subject: at most 300 characters"),
        ("subject", "Two\nlines", "Subject: one line"),
        ("subject", "  ", "Subject: this cannot be empty."),
        ("text_body", "x" * 100_001, "Text body: at most 100,000 characters"),
        ("text_body", "nul\x00here", "Text body: NUL characters are not allowed."),
        ("text_body", "", "Text body: this cannot be empty."),
        ("html_body", "<p>\x00</p>", "HTML body: NUL characters are not allowed."),
        ("subject", "{{ company.name * 40 }}", "renders longer than 300 characters"),
    ],
)
def test_sizes_and_characters_are_bounded(app, part, value, message):
    browser = staff_browser(app, "staff")
    form = editor(browser, "booking_received").forms["template-form"]
    fields = {
        f: form[f].value for f in ("csrf_token", "version", "subject", "text_body", "html_body")
    }
    fields[part] = value
    page = browser.post(f"{TEMPLATES}/booking_received", fields, status=400)
    assert message in text_of(page, f"error-{part}")
    assert template_row(app, "booking_received").version == 1


def test_a_stale_version_is_refused_and_nothing_is_saved(app):
    mine = staff_browser(app, "staff")
    form = editor(mine, "booking_received").forms["template-form"]
    save(staff_browser(app, "admin"), "booking_received", subject="Theirs {{ booking.number }}")
    form["subject"] = "Mine {{ booking.number }}"
    page = form.submit(status=409)
    assert "Someone else saved this template" in text_of(page, "form-refused")
    assert page.forms["template-form"]["subject"].value == "Mine {{ booking.number }}"
    assert page.forms["template-form"]["version"].value == "2"
    assert text_of(page, "saved-subject") == "Theirs {{ booking.number }}"
    row = template_row(app, "booking_received")
    assert (row.subject, row.version) == ("Theirs {{ booking.number }}", 2)
    assert len(audit_rows(app, "notification_template.updated")) == 1
    # Saving again from the re-shown form (now on version 2) is the staff's decision.
    page.forms["template-form"].submit(status=303)
    assert template_row(app, "booking_received").subject == "Mine {{ booking.number }}"


def test_a_damaged_version_is_refused(app):
    browser = staff_browser(app, "staff")
    form = editor(browser, "booking_received").forms["template-form"]
    form["version"] = "one"
    page = form.submit(status=400)
    assert "damaged" in text_of(page, "form-refused")


def test_a_viewer_may_read_the_editor_but_not_save(app):
    browser = staff_browser(app, "viewer")
    page = editor(browser, "booking_received")
    assert has(page, "read-only")
    browser.post(
        f"{TEMPLATES}/booking_received",
        {
            "csrf_token": csrf(browser),
            "version": "1",
            "subject": "Changed",
            "text_body": "Changed",
            "html_body": "",
        },
        status=403,
    )
    assert template_row(app, "booking_received").version == 1


def test_an_unknown_template_is_404(app):
    browser = staff_browser(app, "staff")
    editor(browser, "nope", status=404)
    editor(browser, "Bad-Key!", status=404)
    preview(browser, "nope", status=404, subject="x", text_body="y", html_body="")


# --- the live preview ----------------------------------------------------------------------------


def test_the_preview_renders_good_parts(app):
    paid_booking(app)
    answer = preview(
        staff_browser(app, "staff"),
        "payment_confirmed",
        subject="  Paid:   {{ booking.number }}  ",
        text_body="{{ payment.amount }}",
        html_body="<b>{{ recipient.first_name }}</b>",
    )
    assert answer.content_type == "application/json"
    assert answer.json == {"subject": "Paid: TT-000001", "text": "$995.00", "html": "<b>Gale</b>"}


def test_the_preview_of_a_booking_free_database_uses_a_made_up_booking(app):
    answer = preview(
        staff_browser(app, "viewer"),
        "booking_received",
        subject="{{ booking.number }}",
        text_body="x",
        html_body="",
    )
    assert answer.json == {"subject": "TT-000123", "text": "x", "html": ""}


def test_the_preview_escapes_variables_in_html_only(app):
    guest_paid_booking(app, first_name=XSS)
    answer = preview(
        staff_browser(app, "staff"),
        "booking_received",
        subject="Hi {{ recipient.first_name }}",
        text_body="{{ recipient.first_name }}",
        html_body="<p>{{ recipient.first_name }}</p>",
    )
    assert answer.json["text"] == XSS
    assert answer.json["html"] == "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"


def test_the_preview_reports_each_broken_part(app):
    answer = preview(
        staff_browser(app, "staff"),
        "booking_received",
        subject="{{ ''.__class__ }}",
        text_body="{{ booking.nope }}",
        html_body="{% if %}",
    )
    errors = answer.json["errors"]
    assert set(errors) == {"subject", "text_body", "html_body"}
    assert errors["subject"].startswith("Subject: not allowed in a template")
    assert "nope" in errors["text_body"]
    assert errors["html_body"].startswith("HTML body:")
    answer = preview(
        staff_browser(app, "staff"),
        "booking_received",
        subject="Fine",
        text_body="{{ booking.nope }}",
        html_body="",
    )
    assert answer.json["subject"] == "Fine" and set(answer.json["errors"]) == {"text_body"}


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("{{ booking.number.ljust(10**9)|length }}", "ljust would make a value longer"),
        ("{% set u = booking.number * 1000 %}{{ u.join(u)|length }}", "join would make a value"),
        ("{{ booking.number|nosuchfilter }}", "No filter named 'nosuchfilter'"),
    ],
)
def test_the_preview_of_a_template_that_would_exhaust_memory_is_a_field_error(app, source, message):
    answer = preview(
        staff_browser(app, "viewer"),
        "booking_received",
        subject="x",
        text_body=source,
        html_body="",
    )
    assert set(answer.json["errors"]) == {"text_body"}
    assert message in answer.json["errors"]["text_body"]


@pytest.mark.both_databases
def test_the_preview_refuses_input_out_of_bounds(app):
    answer = preview(
        staff_browser(app, "staff"),
        "booking_received",
        status=400,
        subject="x" * 301,
        text_body="y\x00",
        html_body="",
    )
    assert set(answer.json["errors"]) == {"subject", "text_body"}


def test_the_preview_needs_the_csrf_header_and_a_staff_sign_in(app):
    browser = staff_browser(app, "viewer")
    parts = {"subject": "x", "text_body": "y", "html_body": ""}
    preview(browser, "booking_received", status=403, token="", **parts)
    preview(browser, "booking_received", status=403, token="forged", **parts)
    anonymous = TestApp(app.app, extra_environ={"REMOTE_ADDR": "127.0.0.1"})
    answer = anonymous.post(f"{TEMPLATES}/booking_received/preview", parts, status=302)
    assert "/console/login" in answer.location
    assert preview(browser, "booking_received", **parts).json["text"] == "y"


# --- the mailbox ---------------------------------------------------------------------------------


def test_the_mailbox_lists_and_shows_what_the_console_mailer_wrote(app):
    booking, _ = paid_booking(app)
    browser = staff_browser(app, "viewer")
    page = browser.get(MAILBOX)
    rows = page.html.select("[data-testid=mailbox] tbody tr")
    assert len(rows) == 2
    subjects = {a.text for a in page.html.select("[data-testid=message-link]")}
    assert subjects == {
        f"We received your booking {booking['number']}",
        f"Booking {booking['number']} is confirmed",
    }
    email = email_of(app, "payment_confirmed")
    [link] = [
        a
        for a in page.html.select("[data-testid=message-link]")
        if a.text == f"Booking {booking['number']} is confirmed"
    ]
    message = browser.get(link["href"])
    assert text_of(message, "subject") == f"Booking {booking['number']} is confirmed"
    headers = text_of(message, "headers")
    assert f"To {GUEST_EMAIL}" in headers and "From ToteTaxi" in headers
    assert "We received your payment of $995.00" in text_of(message, "text-body")
    frame = message.html.find("iframe", attrs={"data-testid": "html-body"})
    assert sandboxed(frame) and "$995.00" in frame["srcdoc"]
    assert message.html.find(attrs={"data-testid": "notification-link"})["href"].endswith(
        f"{LOG}/{email['id']}"
    )


def test_an_unknown_mailbox_message_is_404(app):
    browser = staff_browser(app, "viewer")
    assert has(browser.get(MAILBOX), "empty-mailbox")
    browser.get(f"{MAILBOX}/console-{'0' * 32}", status=404)
    browser.get(f"{MAILBOX}/..%2F..%2Fetc%2Fpasswd", status=404)
    browser.get(f"{MAILBOX}/not-a-message", status=404)


def test_the_mailbox_needs_a_staff_sign_in(app):
    answer = TestApp(app.app).get(MAILBOX, status=302)
    assert "/console/login" in answer.location


def test_only_the_pages_framing_an_emails_html_allow_inline_styles(app):
    """A sandboxed ``<iframe srcdoc>`` inherits its page's Content-Security-Policy: the pages that
    show an email's HTML (styled inline, as mail clients want it) allow inline styles and web
    images; scripts stay this origin's files everywhere, and every other page stays strict."""
    guest_paid_booking(app)
    email = email_of(app, "payment_confirmed")
    browser = staff_browser(app, "staff")
    message = browser.get(MAILBOX).html.select("[data-testid=message-link]")[0]["href"]

    def policy(path: str) -> dict[str, list[str]]:
        header = browser.get(path).headers["Content-Security-Policy"]
        return {name: sources for name, *sources in (part.split() for part in header.split(";"))}

    for path in (f"{LOG}/{email['id']}", f"{TEMPLATES}/payment_confirmed", message):
        framing = policy(path)
        assert framing["style-src"] == ["'self'", "'unsafe-inline'"], path
        assert framing["img-src"] == ["'self'", "data:", "https:"], path
        assert framing["script-src"] == ["'self'"], path
    for path in (LOG, TEMPLATES, MAILBOX):
        assert policy(path)["style-src"] == ["'self'"], path
    # A refused save re-renders the editor: still its policy.
    refused = save(browser, "payment_confirmed", status=400, subject="{{ booking.nmber }}")
    assert "'unsafe-inline'" in refused.headers["Content-Security-Policy"]
