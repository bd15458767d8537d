"""The pricing console in headless Chromium: an admin changes a price and the next quote uses it;
a viewer reads the same page without a form and a forged change is refused.

Quotes are asked of the live server over plain HTTP (urllib, no cookie), as the website would.
The app's clock is fixed at Monday 2026-11-23 10:00 New York time; 2026-11-30 is a Monday with
no surcharge.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from totetaxi_pricing.models import MiniMovePackage

from totetaxi_core.audit.models import AuditRecord
from totetaxi_core.testing import in_transaction, make_staff

from .site import api, sign_in, start

MONDAY = "2026-11-30"


@pytest.fixture
def live(make_live_server: Any) -> Any:
    return start(make_live_server, "pricing")


def petite_total(live: Any) -> int:
    answer = api(
        live,
        "POST",
        "/api/v1/quotes",
        {"service_type": "mini_move", "package": "petite", "date": MONDAY},
    )
    return answer["total_cents"]


def petite_price(live: Any) -> int:
    return in_transaction(
        live.registry, lambda ctx: ctx.dbsession.get(MiniMovePackage, "petite").price_cents
    )


def pricing_actions(live: Any) -> list[str]:
    return in_transaction(
        live.registry,
        lambda ctx: list(
            ctx.dbsession.scalars(
                select(AuditRecord.action)
                .where(AuditRecord.action.like("pricing.%"))
                .order_by(AuditRecord.at)
            )
        ),
    )


def test_an_admin_changes_the_petite_price_and_the_next_quote_uses_it(
    live, page, tmp_path, csp_violations
):
    make_staff(live.registry, "admin", email="dana@totetaxi.test")
    assert petite_total(live) == 99500

    answer = sign_in(page, live, "dana@totetaxi.test", "/console/pricing/catalog")
    assert answer.status == 200
    assert page.locator("h1").inner_text() == "Prices"
    assert page.locator("nav.main a.active").inner_text() == "Prices"
    price = page.locator("#package-petite-price")
    assert price.input_value() == "995.00"

    # A typo is refused next to the field; nothing changes.
    price.fill("10.505")
    with page.expect_navigation() as navigation:
        page.click("button:has-text('Save Petite')")
    assert navigation.value.status == 400
    assert page.locator("#package-petite [data-testid=error-price]").inner_text() == (
        "Price: at most 2 decimals (whole cents)."
    )
    assert page.locator("#package-petite-price").input_value() == "10.505"
    assert petite_total(live) == 99500

    page.fill("#package-petite-price", "1050.00")
    with page.expect_navigation() as navigation:
        page.click("button:has-text('Save Petite')")
    assert navigation.value.status == 200
    assert page.url.endswith("/console/pricing/catalog?done=package_saved#package-petite")
    assert "Package saved" in page.locator("[data-testid=flash]").inner_text()
    assert page.locator("#package-petite-price").input_value() == "1050.00"

    assert petite_total(live) == 105000  # the very next quote
    assert api(live, "GET", "/api/v1/services")["mini_move_packages"][0]["price_cents"] == 105000
    assert pricing_actions(live) == ["pricing.package_changed"]
    assert csp_violations == []  # the catalog page, styled from a file

    shot = tmp_path / "pricing.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_viewer_reads_the_catalog_but_cannot_change_a_price(live, page):
    make_staff(live.registry, "viewer", email="val@totetaxi.test")
    sign_in(page, live, "val@totetaxi.test", "/console/pricing/catalog")
    assert page.locator("[data-testid=user-role]").text_content() == "viewer"
    assert page.locator("[data-testid=price-petite]").inner_text() == "$995"
    assert page.locator("[data-testid=read-only]").is_visible()
    # No edit form: the only POST form is the header's sign-out.
    actions = page.eval_on_selector_all("form[method=post]", "fs => fs.map(f => f.action)")
    assert actions == [live.url + "/console/logout"]
    assert page.locator("#package-petite-price").count() == 0

    # A forged change with the session's own valid CSRF token is refused by permission.
    csrf = page.locator("header input[name=csrf_token]").input_value()
    target = live.url + "/console/pricing/catalog/packages/petite"
    answer = page.request.post(
        target,
        form={
            "csrf_token": csrf,
            "name": "Petite",
            "price": "1.00",
            "max_items": "15",
            "active": "1",
        },
    )
    assert answer.status == 403
    assert "Not allowed" in answer.text()

    # The same through a form slipped into the page and submitted by the browser.
    with page.expect_navigation() as navigation:
        page.evaluate(
            """([action, token]) => {
                const form = document.createElement('form');
                form.method = 'post';
                form.action = action;
                for (const [name, value] of [['csrf_token', token], ['price', '1.00']]) {
                    const input = document.createElement('input');
                    input.type = 'hidden'; input.name = name; input.value = value;
                    form.appendChild(input);
                }
                document.body.appendChild(form);
                form.submit();
            }""",
            [target, csrf],
        )
    assert navigation.value.status == 403
    assert page.locator("h1").inner_text() == "Not allowed"
    assert (
        "your role does not allow this page"
        in page.locator("[data-testid=forbidden-reason]").inner_text()
    )

    assert petite_price(live) == 99500
    assert petite_total(live) == 99500
    assert pricing_actions(live) == []


def test_an_admin_closes_a_day_from_the_calendar(live, page):
    make_staff(live.registry, "admin", email="dana@totetaxi.test")
    sign_in(page, live, "dana@totetaxi.test", "/console/pricing/capacity")
    assert page.locator("[data-testid=month]").inner_text() == "November 2026"
    day = api(live, "GET", f"/api/v1/availability?start={MONDAY}&end={MONDAY}")["days"][0]
    assert day["available"] is True

    page.click(f"#day-{MONDAY} a.edit")
    assert page.locator("#override-date").input_value() == MONDAY
    page.fill("#override-van_capacity", "0")
    page.fill("#override-note", "Crew at the Hamptons depot")
    with page.expect_navigation():
        page.click("button:has-text('Save the date')")
    assert "Capacity of the day saved." in page.locator("[data-testid=flash]").inner_text()
    cell = page.locator(f"#day-{MONDAY}")
    text = cell.inner_text()
    assert "CLOSED" in text.upper() and "Crew at the Hamptons depot" in text

    day = api(live, "GET", f"/api/v1/availability?start={MONDAY}&end={MONDAY}")["days"][0]
    assert day["available"] is False and day["remaining"] == 0

    with page.expect_navigation():
        page.click("[data-testid=next-month]")
    assert page.locator("[data-testid=month]").inner_text() == "December 2026"
