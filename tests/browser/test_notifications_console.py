"""The email template editor in headless Chromium: the live preview follows the typing, a broken
expression shows its error at once, and a valid change is saved.

The app runs with the pricing plugin, the mock gateway and the development mailer
(``mail_console``, writing to the test's folder); its clock is fixed at Monday 2026-11-23 10:00
New York time. A guest's booking (paid over plain HTTP with the test card 4242, as the website
would) gives the preview its values: TT-000001, $995.00, "Gale".
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from totetaxi_notifications.models import EmailTemplate, Notification

from totetaxi_core.audit.models import AuditRecord
from totetaxi_core.testing import in_transaction, make_staff

from .site import paid_booking, sign_in, start

EDITOR = "/console/notifications/templates/payment_confirmed"


@pytest.fixture
def live(make_live_server: Any, tmp_path: Any) -> Any:
    return start(
        make_live_server,
        "pricing payments_mock mail_console",
        **{"mail_console.folder": str(tmp_path / "mail")},
    )


def stored(live: Any) -> dict[str, Any]:
    def work(ctx):
        template = ctx.dbsession.scalars(
            select(EmailTemplate).where(EmailTemplate.key == "payment_confirmed")
        ).one()
        audit = list(
            ctx.dbsession.scalars(
                select(AuditRecord.action).where(
                    AuditRecord.action == "notification_template.updated"
                )
            )
        )
        subjects = list(
            ctx.dbsession.scalars(
                select(Notification.subject)
                .where(Notification.template_key == "payment_confirmed")
                .order_by(Notification.created_at)
            )
        )
        return {
            "subject": template.subject,
            "text_body": template.text_body,
            "version": template.version,
            "audit": audit,
            "sent": subjects,
        }

    return in_transaction(live.registry, work)


def test_staff_edit_a_template_with_a_live_preview_and_save_it(live, page, csp_violations):
    from playwright.sync_api import expect

    make_staff(live.registry, "staff", email="sam@totetaxi.test")
    booking = paid_booking(live)
    sign_in(page, live, "sam@totetaxi.test", EDITOR)
    preview = page.locator("#preview")
    expect(preview.locator("[data-testid=preview-subject]")).to_have_text(
        f"Booking {booking['number']} is confirmed"
    )

    # Typing in the subject: the preview follows, with the booking's values.
    page.fill("#f-subject", "Paid in full: {{ booking.number }} ({{ payment.amount }})")
    expect(preview.locator("[data-testid=preview-subject]")).to_have_text(
        f"Paid in full: {booking['number']} ($995.00)"
    )
    expect(preview.locator("[data-testid=preview-state]")).to_have_text("up to date")

    # A misspelt variable in the text body: its error shows, the subject still previews.
    body = page.locator("#f-text_body")
    original = body.input_value()
    body.fill("Thanks {{ booking.nmber }}\n" + original)
    expect(preview.locator("[data-testid=preview-error-text_body]")).to_contain_text("nmber")
    expect(preview.locator("[data-testid=preview-state]")).to_have_text(
        "not rendered: see the errors"
    )

    # Saving it anyway is refused next to the field, and nothing is saved.
    with page.expect_navigation() as navigation:
        page.click("button:has-text('Save template')")
    assert navigation.value.status == 400
    expect(page.locator("[data-testid=error-text_body]")).to_contain_text("nmber")
    assert stored(live)["version"] == 1

    # Fixed: the error goes away in the preview, and the save goes through.
    body.fill("Thanks {{ recipient.first_name }}!\n" + original)
    expect(preview.locator("[data-testid=preview-error-text_body]")).to_have_count(0)
    expect(preview.locator("[data-testid=preview-text]")).to_contain_text("Thanks Gale!")
    with page.expect_navigation() as navigation:
        page.click("button:has-text('Save template')")
    assert navigation.value.status == 200
    assert page.url == live.url + EDITOR + "?done=template_saved"
    expect(page.locator("[data-testid=flash]")).to_have_text(
        "Template saved; the next emails use it."
    )
    expect(page.locator("[data-testid=version]")).to_have_text("2")
    saved = stored(live)
    assert saved["subject"] == "Paid in full: {{ booking.number }} ({{ payment.amount }})"
    assert saved["text_body"].startswith("Thanks {{ recipient.first_name }}!\n")
    assert saved["text_body"] == "Thanks {{ recipient.first_name }}!\n" + original
    assert saved["audit"] == ["notification_template.updated"]

    # The next booking's email uses it.
    second = paid_booking(live)
    assert stored(live)["sent"][-1] == f"Paid in full: {second['number']} ($995.00)"

    # The editor, its script (a file) and the email's inline-styled HTML in the frame all ran
    # under the console's Content-Security-Policy without a refusal.
    assert csp_violations == []


def test_the_html_preview_is_sandboxed_and_a_viewer_can_try_but_not_save(
    live, page, csp_violations
):
    from playwright.sync_api import expect

    make_staff(live.registry, "viewer", email="vic@totetaxi.test")
    paid_booking(live)
    sign_in(page, live, "vic@totetaxi.test", EDITOR)
    expect(page.locator("[data-testid=read-only]")).to_be_visible()
    assert page.locator("button:has-text('Save template')").count() == 0

    # The HTML preview updates in its frame, its inline style applies (the frame inherits the
    # page's policy, which allows it on this page), and a script in it never runs.
    page.fill(
        "#f-html_body",
        '<p id=hi style="color: rgb(1, 2, 3)">Hi <b>{{ recipient.first_name }}</b></p>'
        "<script>document.body.dataset.ran = 'yes'; "
        "parent.document.title = 'pwned';</script>",
    )
    frame = page.frame_locator("[data-testid=preview-html]")
    expect(frame.locator("#hi")).to_have_text("Hi Gale")
    assert frame.locator("#hi").evaluate("e => getComputedStyle(e).color") == "rgb(1, 2, 3)"
    assert frame.locator("body").get_attribute("data-ran") is None
    assert "pwned" not in page.title()
    assert page.locator("[data-testid=preview-html]").get_attribute("sandbox") == ""

    # Enter in the subject does not submit a viewer's form: the page stays as it is.
    page.fill("#f-subject", "Try {{ booking.number }}")
    expect(page.locator("[data-testid=preview-subject]")).to_have_text("Try TT-000001")
    page.press("#f-subject", "Enter")
    page.wait_for_timeout(300)
    assert page.url == live.url + EDITOR
    assert stored(live)["version"] == 1
    assert csp_violations == []
