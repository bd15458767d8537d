"""Customer care on the customer page: notes, disabling an account, a reset link; audited."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select
from webtest import TestApp

from totetaxi_core.testing import (
    bearer,
    console_sign_in,
    csrf_token_in,
    in_transaction,
    make_customer,
    make_staff,
)

PLUGINS = "pricing notifications mail_console crm"


@pytest.fixture
def app(make_testapp: Callable[..., TestApp]) -> TestApp:
    return make_testapp(**{"totetaxi.plugins": PLUGINS})


def _actions(app: TestApp) -> list[str]:
    from totetaxi_core.audit.models import AuditRecord

    return in_transaction(
        app.app.registry,
        lambda ctx: list(
            ctx.dbsession.scalars(select(AuditRecord.action).order_by(AuditRecord.at))
        ),
    )


def test_staff_take_care_of_a_customer(app: TestApp) -> None:
    from totetaxi_crm.models import CustomerNote
    from totetaxi_notifications.models import Notification

    customer = make_customer(app.app.registry)
    customer_headers = bearer(app, customer.email)
    app.get("/api/v1/me", headers=customer_headers)
    staff = make_staff(app.app.registry, "staff")
    console_sign_in(app, staff)
    page = app.get(f"/console/customers/{customer.id}")
    panel = page.html.select_one("[data-testid=care-panel]")
    assert panel is not None and "No notes yet." in panel.text
    token = csrf_token_in(page)
    base = f"/console/crm/customers/{customer.id}"

    app.post(
        f"{base}/notes", {"csrf_token": token, "text": "Prefers calls after 6 pm."}, status=303
    )
    refused = app.post(f"{base}/notes", {"csrf_token": token, "text": "x"}, status=400)
    assert refused.html.select_one("[data-testid=error-text]") is not None
    page = app.get(f"/console/customers/{customer.id}")
    assert "Prefers calls after 6 pm." in page.text

    app.post(f"{base}/active", {"csrf_token": token, "active": "0"}, status=303)
    app.get("/api/v1/me", headers=customer_headers, status=401)  # its token ended
    assert "disabled" in app.get(f"/console/customers/{customer.id}").text
    app.post(f"{base}/active", {"csrf_token": token, "active": "1"}, status=303)

    app.post(f"{base}/password-reset", {"csrf_token": token}, status=303)
    sent = in_transaction(
        app.app.registry,
        lambda ctx: list(
            ctx.dbsession.scalars(
                select(Notification.template_key).where(Notification.recipient == customer.email)
            )
        ),
    )
    assert "password_reset" in sent
    # The notifications plugin's panel on the same page lists it.
    page = app.get(f"/console/customers/{customer.id}")
    panels = {
        panel.select_one("h2").text: panel.text for panel in page.html.select("[data-testid=panel]")
    }
    assert "Email password_reset" in panels["Emails"]
    assert "Customer care" in panels
    notes = in_transaction(
        app.app.registry, lambda ctx: list(ctx.dbsession.scalars(select(CustomerNote.text)))
    )
    assert notes == ["Prefers calls after 6 pm."]
    assert {
        "crm.customer_note_added",
        "customer.disabled",
        "customer.enabled",
        "crm.password_reset_sent",
    } <= set(_actions(app))


def test_a_viewer_reads_the_care_panel_but_cannot_act(app: TestApp) -> None:
    customer = make_customer(app.app.registry)
    viewer = make_staff(app.app.registry, "viewer")
    console_sign_in(app, viewer)
    page = app.get(f"/console/customers/{customer.id}")
    assert page.html.select_one("[data-testid=care-panel]") is not None
    assert page.html.select_one("[data-testid=care-toggle]") is None
    token = csrf_token_in(page)
    app.post(
        f"/console/crm/customers/{customer.id}/notes",
        {"csrf_token": token, "text": "Sneaky note"},
        status=403,
    )


def test_staff_book_for_a_customer_by_phone(app: TestApp) -> None:
    import datetime as dt

    from totetaxi_notifications.models import Notification

    from totetaxi_core.testing import booking_body

    customer = make_customer(app.app.registry)
    staff = make_staff(app.app.registry, "staff")
    headers = bearer(app, staff.email, staff=True)
    day = dt.date.today() + dt.timedelta(days=10)
    made = app.post_json(
        f"/api/v1/staff/customers/{customer.id}/bookings",
        booking_body(day, guest=False),
        headers=headers,
        status=201,
    ).json
    quoted = app.post_json(
        "/api/v1/quotes",
        {"service_type": "mini_move", "package": "petite", "date": day.isoformat()},
    ).json
    # Priced by the server's rules, as any booking.
    assert made["status"] == "pending_payment" and made["total_cents"] == quoted["total_cents"]
    mine = app.get("/api/v1/me/bookings", headers=bearer(app, customer.email)).json
    assert [b["number"] for b in mine["items"]] == [made["number"]]
    received = in_transaction(
        app.app.registry,
        lambda ctx: list(
            ctx.dbsession.scalars(
                select(Notification.recipient).where(
                    Notification.template_key == "booking_received"
                )
            )
        ),
    )
    assert received == [customer.email]  # with the link to pay
    assert "crm.booking_by_phone" in _actions(app)
    guest = app.post_json(
        f"/api/v1/staff/customers/{customer.id}/bookings",
        booking_body(day, guest=True),
        headers=headers,
        status=400,
    ).json
    assert guest["errors"][0]["name"] == "guest"
    viewer = make_staff(app.app.registry, "viewer")
    app.post_json(
        f"/api/v1/staff/customers/{customer.id}/bookings",
        booking_body(day, guest=False),
        headers=bearer(app, viewer.email, staff=True),
        status=403,
    )


def _emails(app: TestApp, recipient: str) -> list[tuple[str, str, str]]:
    from totetaxi_notifications.models import Notification

    return in_transaction(
        app.app.registry,
        lambda ctx: [
            (row.template_key, row.status.value, row.text_body)
            for row in ctx.dbsession.scalars(
                select(Notification)
                .where(Notification.recipient == recipient)
                .order_by(Notification.created_at)
            )
        ],
    )


def test_staff_email_a_customer_from_a_template(app: TestApp) -> None:
    customer = make_customer(app.app.registry, first_name="Olivia")
    staff = make_staff(app.app.registry, "staff")
    headers = bearer(app, staff.email, staff=True)
    base = f"/api/v1/staff/customers/{customer.id}/messages"

    templates = app.get("/api/v1/staff/message-templates", headers=headers).json["items"]
    assert {t["key"] for t in templates} == {"care_message", "care_weather_delay", "care_follow_up"}

    sent = app.post_json(
        base,
        {"template": "care_weather_delay", "message": "Your van left at 2 pm.\nSorry!"},
        headers=headers,
        status=202,
    ).json
    assert sent["recipient"] == customer.email and sent["template"] == "care_weather_delay"
    [(key, status, body)] = _emails(app, customer.email)
    assert (key, status) == ("care_weather_delay", "sent")
    assert "Hello Olivia," in body and "Your van left at 2 pm.\nSorry!" in body
    assert "weather" in body
    assert "crm.customer_messaged" in _actions(app)

    # Refusals name the field; nothing is queued.
    unknown = app.post_json(base, {"template": "password_reset"}, headers=headers, status=400)
    assert unknown.json["errors"][0]["name"] == "template"
    control = app.post_json(
        base, {"template": "care_message", "message": "bell\x07"}, headers=headers, status=400
    )
    assert control.json["errors"][0]["name"] == "message"
    app.post_json(
        base, {"template": "care_message", "message": "x" * 4001}, headers=headers, status=400
    )
    assert len(_emails(app, customer.email)) == 1
    viewer = make_staff(app.app.registry, "viewer")
    app.post_json(
        base,
        {"template": "care_message"},
        headers=bearer(app, viewer.email, staff=True),
        status=403,
    )
    app.post_json(
        "/api/v1/staff/customers/00000000-0000-0000-0000-000000000000/messages",
        {"template": "care_message"},
        headers=headers,
        status=404,
    )


def test_the_care_panel_emails_a_customer_and_refuses_a_disabled_account(app: TestApp) -> None:
    customer = make_customer(app.app.registry)
    console_sign_in(app, make_staff(app.app.registry, "staff"))
    page = app.get(f"/console/customers/{customer.id}")
    form = page.html.select_one("[data-testid=care-message-form]")
    assert form is not None
    assert [o["value"] for o in form.select("option")] == [
        "care_follow_up",
        "care_message",
        "care_weather_delay",
    ]  # by name: Follow-up, Message, Weather
    token = csrf_token_in(page)
    url = f"/console/crm/customers/{customer.id}/messages"

    done = app.post(
        url, {"csrf_token": token, "template": "care_message", "message": "Hi!"}, status=303
    )
    assert "Email queued" in done.follow().text
    assert [key for key, *_ in _emails(app, customer.email)] == ["care_message"]

    app.post(f"/console/crm/customers/{customer.id}/active", {"csrf_token": token, "active": "0"})
    refused = app.post(
        url,
        {"csrf_token": token, "template": "care_message", "message": "Still there?"},
        status=400,
    )
    assert "disabled" in refused.html.select_one("[data-testid=error-customer]").text
    assert "Still there?" in refused.html.select_one("#care-message").text  # kept as typed
    assert len(_emails(app, customer.email)) == 1


def _form(page: object, **values: str) -> dict[str, str]:
    """The phone form's fields as the page filled them, with ``values`` typed over them."""
    form = page.html.select_one("[data-testid=book-form]")  # type: ignore[attr-defined]
    fields: dict[str, str] = {}
    for element in form.select("input, select, textarea"):
        name = element.get("name")
        if not name or (element.get("type") == "checkbox" and not element.has_attr("checked")):
            continue
        if element.name == "select":
            chosen = element.select_one("option[selected]")
            fields[name] = chosen["value"] if chosen else ""
        elif element.name == "textarea":
            fields[name] = element.text
        else:
            fields[name] = element.get("value", "")
    fields.update(values)
    return fields


def test_staff_book_by_phone_from_the_customer_page(app: TestApp) -> None:
    import datetime as dt

    from totetaxi_core.plugin_api import Booking
    from totetaxi_core.testing import PICKUP

    customer = make_customer(app.app.registry)
    customer_headers = bearer(app, customer.email)
    saved = app.post_json(
        "/api/v1/me/addresses", {"label": "Home", **PICKUP}, headers=customer_headers
    ).json
    console_sign_in(app, make_staff(app.app.registry, "staff"))
    page = app.get(f"/console/customers/{customer.id}")
    form_page = page.click(href=f"/console/crm/customers/{customer.id}/book")
    services = [o["value"] for o in form_page.html.select("#book-service_type option")]
    assert "mini_move" in services
    assert saved["id"] in [o["value"] for o in form_page.html.select("#book-pickup_saved option")]
    day = (dt.date.today() + dt.timedelta(days=12)).isoformat()
    url = f"/console/crm/customers/{customer.id}/book"

    # A ZIP code that is none, and no date: the form again, the sentence at each field.
    refused = app.post(
        url,
        _form(
            form_page,
            package="petite",
            date="",
            pickup_saved=saved["id"],
            delivery_line1="12 Dune Rd",
            delivery_city="Southampton",
            delivery_state="NY",
            delivery_postal_code="1196",
        ),
        status=400,
    )
    assert (
        "ZIP code" in refused.html.select_one("[data-testid=error-book-delivery_postal_code]").text
    )
    assert "Pickup date" in refused.html.select_one("[data-testid=error-book-date]").text
    assert refused.html.select_one("#book-delivery_line1")["value"] == "12 Dune Rd"  # as typed
    count = in_transaction(app.app.registry, lambda ctx: ctx.dbsession.query(Booking).count())
    assert count == 0

    done = app.post(
        url,
        _form(
            refused,
            date=day,
            delivery_postal_code="11968",
        ),
        status=303,
    )
    booking_page = done.follow()
    mine = TestApp(app.app).get("/api/v1/me/bookings", headers=customer_headers).json["items"]
    assert len(mine) == 1 and mine[0]["number"] in booking_page.text
    quoted = (
        TestApp(app.app)
        .post_json(
            "/api/v1/quotes", {"service_type": "mini_move", "package": "petite", "date": day}
        )
        .json
    )
    assert mine[0]["total_cents"] == quoted["total_cents"]  # the server's price
    assert mine[0]["pickup_address"]["line1"] == PICKUP["line1"]  # the saved address
    assert _emails(app, customer.email)[0][0] == "booking_received"
    assert "crm.booking_by_phone" in _actions(app)


def test_a_viewer_cannot_book_by_phone_nor_anyone_for_a_disabled_account(app: TestApp) -> None:
    customer = make_customer(app.app.registry)
    console_sign_in(app, make_staff(app.app.registry, "viewer"))
    page = app.get(f"/console/customers/{customer.id}")
    assert page.html.select_one("[data-testid=care-book]") is None
    app.get(f"/console/crm/customers/{customer.id}/book", status=403)
    app.post(
        f"/console/crm/customers/{customer.id}/book",
        {"csrf_token": csrf_token_in(page), "service_type": "mini_move"},
        status=403,
    )
    staff_app = TestApp(app.app, extra_environ={"REMOTE_ADDR": "127.0.0.1"})
    console_sign_in(staff_app, make_staff(app.app.registry, "staff"))
    page = staff_app.get(f"/console/customers/{customer.id}")
    token = csrf_token_in(page)
    staff_app.post(
        f"/console/crm/customers/{customer.id}/active", {"csrf_token": token, "active": "0"}
    )
    assert (
        staff_app.get(f"/console/customers/{customer.id}").html.select_one(
            "[data-testid=care-book]"
        )
        is None
    )
    form_page = staff_app.get(f"/console/crm/customers/{customer.id}/book")
    from totetaxi_core.testing import DELIVERY, PICKUP

    typed = {f"pickup_{k}": v for k, v in PICKUP.items()}
    typed.update({f"delivery_{k}": v for k, v in DELIVERY.items()})
    refused = staff_app.post(
        f"/console/crm/customers/{customer.id}/book",
        _form(form_page, package="petite", **typed),
        status=400,
    )
    assert "disabled" in refused.html.select_one("[data-testid=book-refused]").text
