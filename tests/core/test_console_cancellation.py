"""The cancellation policy page: staff read it, admins change it (audited), bad rows are
refused next to their field."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from webtest import TestApp

from totetaxi_core.audit import AuditRecord
from totetaxi_core.bookings.cancellation import read_policy
from totetaxi_core.testing import console_sign_in, in_transaction, make_staff

PAGE = "/console/cancellation-policy"


def signed_in(testapp, role: str) -> TestApp:
    browser = TestApp(testapp.app)
    console_sign_in(browser, make_staff(testapp.app.registry, role))
    return browser


def policy(testapp):
    return in_transaction(testapp.app.registry, lambda ctx: read_policy(ctx.dbsession))


def test_staff_read_the_policy_in_force(testapp):
    page = signed_in(testapp, "viewer").get(PAGE)
    assert "100% back when cancelled 48 hours or more" in page.text
    assert page.html.find(attrs={"data-testid": "read-only"}) is not None
    assert page.html.find("form", attrs={"data-testid": "policy-form"}) is None


def test_an_admin_changes_the_policy_and_it_is_audited(testapp):
    browser = signed_in(testapp, "admin")
    page = browser.get(PAGE)
    form = page.forms["policy-form"]
    form["hours_1"], form["percent_1"] = "24", "50"
    done = form.submit(status=303).follow()
    assert "saved" in done.text
    tiers = [(t.hours_before, t.refund_percent) for t in policy(testapp).tiers]
    assert tiers == [(48, 100), (24, 50)]
    actions = in_transaction(
        testapp.app.registry, lambda ctx: list(ctx.dbsession.scalars(select(AuditRecord.action)))
    )
    assert "cancellation_policy.updated" in actions


@pytest.mark.parametrize(
    ("hours", "percent", "field", "message"),
    [
        ("abc", "50", "error-hours_1", "whole number"),
        ("24", "150", "error-percent_1", "0 to 100"),
        ("48", "50", "form-refused", "same hours"),
        ("24", "100", None, None),  # equal percent for a later tier is fine
        ("72", "50", "form-refused", "cannot get more back"),
    ],
)
def test_bad_rows_are_refused_and_nothing_changes(testapp, hours, percent, field, message):
    browser = signed_in(testapp, "admin")
    page = browser.get(PAGE)
    form = page.forms["policy-form"]
    form["hours_1"], form["percent_1"] = hours, percent
    if field is None:
        form.submit(status=303)
        return
    refused = form.submit(status=400)
    assert message in refused.html.find(attrs={"data-testid": field}).text
    assert [(t.hours_before, t.refund_percent) for t in policy(testapp).tiers] == [(48, 100)]


def test_only_admins_change_it(testapp):
    browser = signed_in(testapp, "staff")
    page = browser.get(PAGE)
    token = page.html.find("input", attrs={"name": "csrf_token"})["value"]
    browser.post(PAGE, {"csrf_token": token, "hours_0": "1", "percent_0": "100"}, status=403)
    assert [(t.hours_before, t.refund_percent) for t in policy(testapp).tiers] == [(48, 100)]


def test_an_empty_policy_is_a_slip_not_a_save(testapp):
    browser = signed_in(testapp, "admin")
    form = browser.get(PAGE).forms["policy-form"]
    form["hours_0"], form["percent_0"] = "", ""
    refused = form.submit(status=400)
    assert "at least one tier" in refused.html.find(attrs={"data-testid": "form-refused"}).text
