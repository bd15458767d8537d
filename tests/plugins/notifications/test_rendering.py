"""Rendering staff-edited templates: the sandbox (no way out to Python internals, nothing
changed, nothing unbounded), escaping, strict variables, and the seeded default templates (one
per event of BUSINESS_RULES "Notifications", each rendering with the editor's sample variables
and using only the variables it declares).
"""

from __future__ import annotations

from typing import Any

import pytest
import support.notifications as notifications_support
from jinja2 import nodes
from sqlalchemy import delete, select
from support.notifications import edit_template, fetch, run, template
from support.payments import book_as_guest
from totetaxi_notifications import defaults, hooks, rendering, variables
from totetaxi_notifications.defaults import RESCHEDULE_VARIABLES
from totetaxi_notifications.models import EmailTemplate
from totetaxi_notifications.rendering import (
    Rendered,
    RenderError,
    _environment,
    check_names,
    render,
    render_part,
)
from totetaxi_notifications.seed import seed as seed_templates

app = notifications_support.app  # the fixture: pricing, payments_mock, mail_console

#: BUSINESS_RULES "Notifications": booking received, payment confirmed, payment failed, delivery
#: assigned, picked up, delivered, delivery failed, refund issued, password reset, COI
#: missing/expiring; then the changes of a booking a customer must know of (issue 13, item 19):
#: cancelled, status changed by staff, completed, rescheduled; and a failed pickup or drop-off
#: given a new date and window (the logistics plugin's ``rescheduled``).
EVENT_KEYS = (
    "booking_received",
    "payment_confirmed",
    "payment_failed",
    "delivery_assigned",
    "delivery_picked_up",
    "delivery_delivered",
    "delivery_failed",
    "delivery_rescheduled",
    "refund_issued",
    "password_reset",
    "coi_missing",
    "coi_expiring",
    "booking_cancelled",
    "booking_status_changed",
    "booking_completed",
    "booking_rescheduled",
    # Customer care: emails staff send by hand (n0005).
    "care_message",
    "care_weather_delay",
    "care_follow_up",
)

VARIABLES = {
    "booking": {"number": "TT-000042", "total": "$995.00", "total_cents": 99500},
    "recipient": {"first_name": "<script>alert(1)</script>", "email": "a&b@example.com"},
    "items": ["one", "two"],
}
LEAKS = (
    "<class",
    "subclasses",
    "function",
    "method",
    "globals",
    "object at 0x",
    "module",
    "builtins",
    "TemplateReference",
)

PARTS = ("subject", "text_body", "html_body")


def refused(
    source: str, part: str = "text_body", values: dict[str, Any] | None = None
) -> RenderError:
    with pytest.raises(RenderError) as caught:
        render_part(part, source, VARIABLES if values is None else values)
    assert caught.value.part == part
    assert str(caught.value).startswith(f"{part}: ")
    assert not any(leak in caught.value.message for leak in ("<class", "object at 0x"))
    return caught.value


# --- the sandbox ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "why"),
    [
        ("{{ ''.__class__ }}", "access to attribute '__class__' of 'str' object is unsafe"),
        (
            "{{ ''.__class__.__mro__[1].__subclasses__() }}",
            "access to attribute '__class__' of 'str' object is unsafe",
        ),
        ("{{ booking.__class__ }}", "access to attribute '__class__' of 'dict' object is unsafe"),
        (
            "{{ booking|attr('__class__') }}",
            "access to attribute '__class__' of 'dict' object is unsafe",
        ),
        ("{{ booking.number.__class__.__base__.__subclasses__() }}", "'__class__' of 'str'"),
        ("{{ self.__init__ }}", "access to attribute '__init__'"),
        ("{{ self.__init__.__globals__ }}", "access to attribute '__init__'"),
        ("{{ '{0.__class__}'.format(booking) }}", "str.format is not available"),
        ("{{ items.__len__ }}", "access to attribute '__len__'"),
    ],
)
def test_a_way_to_python_internals_is_refused(source, why):
    error = refused(source)
    assert error.message.startswith("not allowed in a template: ")
    assert why in error.message


@pytest.mark.parametrize(
    ("source", "name"),
    [
        ("{{ cycler }}", "cycler"),
        ("{{ joiner() }}", "joiner"),
        ("{{ lipsum }}", "lipsum"),
        ("{{ lipsum(1000) }}", "lipsum"),
        ("{% for i in range(10) %}{{ i }}{% endfor %}", "range"),
        ("{{ dict }}", "dict"),
        ("{{ dict(a=1) }}", "dict"),
        ("{{ namespace }}", "namespace"),
        ("{{ config }}", "config"),
        ("{{ request }}", "request"),
        ("{{ settings }}", "settings"),
        ("{{ __builtins__ }}", "__builtins__"),
    ],
)
def test_a_template_sees_no_global_but_its_variables(source, name):
    assert refused(source).message == f"'{name}' is undefined"


def test_an_undefined_global_leads_nowhere_either():
    error = refused("{{ cycler.__init__.__globals__ }}")
    assert error.message == (
        "not allowed in a template: access to attribute '__init__' of "
        "'StrictUndefined' object is unsafe."
    )


@pytest.mark.parametrize(
    ("source", "why"),
    [
        ("{% set x = booking.update({}) %}", "access to attribute 'update' of 'dict' object"),
        ("{% set x = booking.pop('number') %}{{ booking.number }}", "attribute 'pop' of 'dict'"),
        ("{% set x = items.append('three') %}", "access to attribute 'append' of 'list' object"),
        ("{% set x = items.clear() %}", "access to attribute 'clear' of 'list' object"),
        ("{{ booking.setdefault('x', 1) }}", "attribute 'setdefault' of 'dict'"),
    ],
)
def test_a_template_changes_nothing(source, why):
    values = {"booking": {"number": "TT-000042"}, "items": ["one", "two"]}
    error = refused(source, values=values)
    assert error.message.startswith("not allowed in a template: ") and why in error.message
    assert values == {"booking": {"number": "TT-000042"}, "items": ["one", "two"]}


@pytest.mark.parametrize(
    ("source", "why"),
    [
        ("{{ 'a' * 1000000 }}", "not allowed in a template: the repeated value is too long"),
        ("{{ 1000000 * 'a' }}", "not allowed in a template: the repeated value is too long"),
        ("{{ items * 100000 }}", "not allowed in a template: the repeated value is too long"),
        ("{{ 2 ** 100000 }}", "not allowed in a template: the exponent is too large"),
        ("{{ 2.5 ** 5000 }}", "not allowed in a template: the exponent is too large"),
        ("{{ (9 ** 999) ** 999 }}", "not allowed in a template: the power is too large"),
        (
            "{% set a = 9 ** 999 %}{% set b = a * a %}{% set c = b * b %}{% set d = c * c %}{{ d }}",  # noqa: E501
            "not allowed in a template: the product is too large",
        ),
        ("{{ 'a'|center(1000000) }}", "the center filter's size is over 1000"),
        ("{{ 'a'|indent(width=10 ** 9) }}", "the indent filter's size is over 1000"),
        # Doubling a value is refused once it passes the output cap, before it exhausts memory.
        (
            "{% set s = 'abcdefghij' %}"
            + "{% set s = s ~ s ~ s ~ s ~ s ~ s ~ s ~ s ~ s ~ s %}" * 6
            + "{{ s|length }}",
            "the joined text is too long",
        ),
        (
            "{% set s = 'abcdefghij' %}"
            + "{% set s = s + s + s + s + s + s + s + s + s + s %}" * 6
            + "{{ s|length }}",
            "the sum is too long",
        ),
        (
            "{{ 'abc'|replace('b', 'b' * 1000)|replace('b', 'b' * 1000) }}",
            "replace would make a value longer than 200000 characters",
        ),
        # String methods are sized before they run: each of these would allocate gigabytes.
        ("{{ booking.number.ljust(10**9)|length }}", "ljust would make a value longer"),
        ("{{ booking.number.center(10**9) }}", "center would make a value longer"),
        ("{{ booking.number.zfill(10**9) }}", "zfill would make a value longer"),
        ("{{ ('\t' * 10000).expandtabs(10**6) }}", "expandtabs would make a value longer"),
        ("{% set u = 'x' * 10000 %}{{ u.join(u)|length }}", "join would make a value longer"),
        ("{% set u = 'x' * 10000 %}{{ u|join(u)|length }}", "join would make a value longer"),
        (
            "{% set u = 'x' * 10000 %}{{ u.replace('x', u)|length }}",
            "replace would make a value longer",
        ),
        ("{{ 'ab'|replace(old='a', new='a' * 10000)|replace('a', 'a' * 10000) }}", "replace would"),
        # Methods outside the allow-list are not there at all.
        ("{{ (1).to_bytes(10**9, 'big') }}", "to_bytes"),
        ("{{ 'a'.translate({97: 'x' * 10000}) }}", "translate"),
        ("{{ 'a'.encode() }}", "encode"),
        # A width in a format allocates before any cap could look at the result.
        ("{{ '{:>{w}}'.format(1, w=2000000000) }}", "str.format is not available"),
        ("{{ '%(a)s'.format_map({}) }}", "str.format is not available"),
        ("{{ ('%0' ~ 50000000 ~ 'd') % 1 }}", "string formatting with % is not available"),
        # Nested loops over modest values share one budget of iterations.
        (
            "{% set s = 'x' * 10000 %}{% for a in s %}{% for b in s %}{% for c in s %}.{% endfor %}"
            "{% endfor %}{% endfor %}",
            "the template loops more than 20000 times",
        ),
        ("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "a macro calls itself without end"),
        (
            "{% set s = 'abcdefghij' %}{% for a in s %}{% for b in s %}{% for c in s %}{% for d in s %}"  # noqa: E501
            "{% for e in s %}{% for f in s %}x{% endfor %}{% endfor %}{% endfor %}{% endfor %}"
            "{% endfor %}{% endfor %}",
            "the template loops more than 20000 times",
        ),
    ],
)
def test_nothing_grows_without_bound(source, why):
    assert why in refused(source).message


def test_a_render_stops_at_its_deadline(monkeypatch):
    """No size cap sees a macro calling itself twice (2**depth calls): the deadline does."""
    monkeypatch.setattr(rendering, "MAX_SECONDS", 0.05)
    source = (
        "{% macro f(n) %}{% if n %}{{ f(n - 1) ~ f(n - 1) }}{% endif %}{% endmacro %}{{ f(60) }}"
    )
    assert "takes longer than 0.05 s to render" in refused(source).message


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{{ booking.number.ljust(12, '.') }}|", "TT-000042...|"),
        ("{{ booking.number.zfill(3) }}", "TT-000042"),
        ("{{ ', '.join(['a', 'b']) }}", "a, b"),
        ("{{ booking.number.replace('TT-', '#') }}", "#000042"),
        ("{{ booking.number.lower().split('-')[1] }}", "000042"),
        ("{{ recipient.get('first_name')|length > 0 }}", "True"),
    ],
)
def test_small_method_calls_still_work(source, expected):
    assert render_part("text_body", source, VARIABLES) == expected


@pytest.mark.parametrize(
    "source",
    [
        "{{ 'a' * 10000 }}",
        "{{ 10 ** 1000 }}",
        "{{ 2 ** 10 }}",
        "{{ (9 ** 999) * 2 }}",
        "{{ items * 2 }}",
        "{{ 'a' + 'b' }}",
    ],
)
def test_small_arithmetic_still_works(source):
    out = render_part("text_body", source, VARIABLES)
    assert out == str(eval(source.strip("{} "), {}, {"items": VARIABLES["items"]}))


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{{ 'a'|center(5) }}|", "  a  |"),
        ("{{ 'a' ~ 'b' ~ 'c' }}", "abc"),
        ("{{ [1, 2, 3]|batch(2)|list }}", "[[1, 2], [3]]"),
        ("{{ 'abc'|replace('b', 'x') }}", "axc"),
        ("{{ 7 % 3 }}", "1"),
        (
            "{% for a in 'ab' %}{% for b in 'cd' %}{{ a ~ b }}/{{ loop.length }} {% endfor %}{% endfor %}",  # noqa: E501
            "ac/2 ad/2 bc/2 bd/2 ",
        ),
    ],
)
def test_small_filters_and_joins_still_work(source, expected):
    assert render_part("text_body", source, VARIABLES) == expected


@pytest.mark.parametrize(
    "source",
    [
        "{{ self }}",
        "{{ booking.items }}",
        "{{ booking.number.upper }}",
        "{{ booking }}",
    ],
)
def test_what_a_template_may_print_reveals_no_internals_worth_having(source):
    """Printing an allowed object shows its repr, never a class, module or globals."""
    out = render_part("text_body", source, VARIABLES)
    assert not any(leak in out for leak in ("<class", "subclasses", "__globals__", "module"))


# --- escaping and strictness ----------------------------------------------------------------


def test_the_html_body_escapes_every_value_and_the_text_body_keeps_it():
    source = "Hi {{ recipient.first_name }} <{{ recipient.email }}>"
    done = render("Hi {{ recipient.first_name }}", source, "<p>" + source + "</p>", VARIABLES)
    assert isinstance(done, Rendered)
    assert done.html == ("<p>Hi &lt;script&gt;alert(1)&lt;/script&gt; <a&amp;b@example.com></p>")
    assert "<script>" not in done.html
    assert done.text == "Hi <script>alert(1)</script> <a&b@example.com>"
    assert done.subject == "Hi <script>alert(1)</script>"


def test_a_subject_is_one_line_and_an_empty_html_body_stays_empty():
    done = render("  Booking\n {{ booking.number }}\r\n  ready ", "x", "  \n ", VARIABLES)
    assert done.subject == "Booking TT-000042 ready"
    assert done.html == ""


@pytest.mark.parametrize("part", PARTS)
def test_an_undefined_variable_is_an_error_naming_the_part(part):
    sources = {"subject": "s", "text_body": "t", "html_body": "<p>h</p>"}
    sources[part] = "Hello {{ recipient.nickname }}"
    with pytest.raises(RenderError) as caught:
        render(sources["subject"], sources["text_body"], sources["html_body"], VARIABLES)
    assert caught.value.part == part
    assert str(caught.value) == f"{part}: 'dict object' has no attribute 'nickname'"
    with pytest.raises(RenderError) as caught:
        render_part(part, "{{ nickname }}", VARIABLES)
    assert str(caught.value) == f"{part}: 'nickname' is undefined"


@pytest.mark.parametrize(
    ("source", "why"),
    [
        ("{% if booking.number %}never closed", "Unexpected end of template"),
        ("{{ booking.number", "unexpected end of template"),
        ("{{ booking.total_cents / 0 }}", "ZeroDivisionError: division by zero"),
        ("{{ booking.number + 1 }}", "TypeError: can only concatenate str"),
        ("{{ booking.number|nosuchfilter }}", "No filter named 'nosuchfilter'"),
        ("{{ 'abc'|truncate(-1) }}", "AssertionError"),
        ("{{ booking.number|format }}", "No filter named 'format'"),
    ],
)
def test_a_broken_template_is_a_render_error(source, why):
    error = refused(source)
    assert why.lower() in error.message.lower()


# --- the default templates ------------------------------------------------------------------


def test_every_event_of_the_business_rules_has_a_default_template():
    assert defaults.KEYS == EVENT_KEYS
    assert len(set(defaults.KEYS)) == 19
    assert set(defaults.CARE_KEYS) < set(EVENT_KEYS)
    assert set(defaults.BOOKING_CHANGE_KEYS) < set(EVENT_KEYS)
    # Every template a trigger queues exists; the delivery ones are those n0004 brings.
    assert set(hooks.DELIVERY_TEMPLATES.values()) <= set(EVENT_KEYS)
    assert set(hooks.DELIVERY_TEMPLATES.values()) == set(defaults.DELIVERY_KEYS)
    for default in defaults.DEFAULTS:
        assert default.name and default.description and default.subject
        assert default.text_body.strip() and default.html_body.strip()


@pytest.mark.both_databases
def test_the_defaults_are_seeded_into_the_database(app):
    rows = fetch(app, select(EmailTemplate).order_by(EmailTemplate.key))
    assert sorted(r.key for r in rows) == sorted(EVENT_KEYS)
    for row in rows:
        default = next(d for d in defaults.DEFAULTS if d.key == row.key)
        assert (row.subject, row.text_body, row.html_body, row.variables, row.version) == (
            default.subject,
            default.text_body,
            default.html_body,
            default.variables,
            1,
        )


def test_seeding_again_adds_what_is_missing_and_never_overwrites_an_edit(app):
    edit_template(app, "payment_failed", subject="Edited {{ booking.number }}")
    run(
        app,
        lambda ctx: ctx.dbsession.execute(
            delete(EmailTemplate).where(EmailTemplate.key == "refund_issued")
        ),
    )
    run(app, lambda ctx: seed_templates(ctx.dbsession, ctx.settings))
    assert template(app, "payment_failed").subject == "Edited {{ booking.number }}"
    assert template(app, "refund_issued").subject == next(
        d.subject for d in defaults.DEFAULTS if d.key == "refund_issued"
    )
    assert len(fetch(app, select(EmailTemplate))) == len(EVENT_KEYS)


def used_variables(source: str) -> set[str]:
    """The variables ``source`` reads, dotted (``booking.number``)."""
    tree = _environment(False).parse(source)
    used: set[str] = set()
    inside: set[int] = set()
    for node in tree.find_all(nodes.Getattr):
        if isinstance(node.node, nodes.Name):
            used.add(f"{node.node.name}.{node.attr}")
            inside.add(id(node.node))
        else:
            pytest.fail(f"a default reads a nested attribute: {node}")
    for node in tree.find_all(nodes.Name):
        if node.ctx == "load" and id(node) not in inside:
            used.add(node.name)
    return used


@pytest.mark.parametrize("default", defaults.DEFAULTS, ids=lambda d: d.key)
def test_a_default_template_uses_only_the_variables_it_declares(default):
    used = set().union(*(used_variables(getattr(default, part)) for part in PARTS))
    assert used, "a default template that uses no variable?"
    assert used <= set(default.variables), sorted(used - set(default.variables))
    # Bookings' templates declare every booking variable, the reset and care emails none.
    has_booking = default.key != "password_reset" and default.key not in defaults.CARE_KEYS
    assert all(name in default.variables for name in variables.BOOKING_VARIABLES) is has_booking
    assert all(name in default.variables for name in variables.COMMON_VARIABLES)


def resolve(values: dict[str, Any], dotted: str) -> Any:
    for part in dotted.split("."):
        values = values[part]
    return values


@pytest.mark.parametrize("with_booking", [False, True], ids=["made-up", "latest-booking"])
def test_every_default_renders_with_the_editors_sample(app, with_booking):
    created = book_as_guest(app) if with_booking else None
    sample = run(app, lambda ctx: variables.sample(ctx))
    number = created["number"] if created else "TT-000123"
    assert sample["booking"]["number"] == number
    if created:  # the latest booking's guest link is a sample, never its real token
        assert created["tracking_token"] not in str(sample)
    for default in defaults.DEFAULTS:
        for name in default.variables:  # the preview has every variable a template may use
            resolve(sample, name)
        done = render(default.subject, default.text_body, default.html_body, sample)
        assert done.subject and done.text and done.html.startswith("<!doctype html>")
        assert "\n" not in done.subject
        if default.key != "password_reset" and default.key not in defaults.CARE_KEYS:
            # which booking is always said (the care emails are about the customer)
            assert number in done.subject
        assert sample["company"]["support_email"] in done.text
        for text in (done.subject, done.text, done.html):
            assert not any(leak in text for leak in LEAKS)
            assert "{{" not in text and "{%" not in text


@pytest.mark.parametrize("default", defaults.DEFAULTS, ids=lambda d: d.key)
def test_a_default_reads_well_without_optional_values(default):
    """Variables that "may be empty" (first name, driver, ETA, note) leave no dangling text."""
    values = {
        "company": {"name": "ToteTaxi", "support_email": "help@example.com", "url": "http://x"},
        "recipient": {"first_name": "", "email": "a@example.com"},
        "booking": {name.split(".")[1]: "" for name in variables.BOOKING_VARIABLES},
        "payment": {
            "amount": "$1.00",
            "amount_cents": 100,
            "failure_reason": "No.",
            "attempts_left": 0,
        },
        "refund": {"amount": "$1.00", "amount_cents": 100},
        "delivery": {"status": "", "kind": "", "driver_name": "", "eta": "", "window": ""},
        "document": {"filename": "", "expires_on": "", "note": ""},
        "reset_url": "http://x/r",
        "reset_minutes": 60,
        "cancellation": {"by": "staff", "refund_percent": None, "reason": ""},
        "change": {"old_status": "", "new_status": ""},
        "reschedule": {
            **{name.split(".")[1]: "" for name in RESCHEDULE_VARIABLES},
            "difference_cents": 0,
            "paid": False,
        },
        "message": {"body": ""},
    }
    done = render(default.subject, default.text_body, default.html_body, values)
    assert done.text.startswith("Hello,\n")
    assert "Expected arrival" not in done.text and "About the one you sent" not in done.text
    assert "Your reason" not in done.text and "than before" not in done.text
    assert "None" not in done.text
    if default.key in defaults.BOOKING_CHANGE_KEYS + defaults.CARE_KEYS:
        assert "\n\n\n" not in done.text  # paragraphs left out leave no gap
    if default.key == "delivery_rescheduled":  # no window yet: the time follows
        assert "we will let you know the new time shortly." in done.text
        assert "The new time is" not in done.text


@pytest.mark.parametrize(
    ("source", "unknown"),
    [
        ("{% if payment.attempts_left == 0 %}{{ refund.amount }}{% endif %}", "refund"),
        ("{% if false %}{{ booking.nope }}{% endif %}", "booking.nope"),
        ("{% if false %}{{ booking['nope'] }}{% endif %}", "booking.nope"),
    ],
)
def test_check_names_finds_unknown_variables_in_branches_not_taken(source, unknown):
    values = {"booking": {"number": "TT-000001"}, "payment": {"attempts_left": 2}}
    with pytest.raises(RenderError) as refused:
        check_names("text_body", source, values)
    assert refused.value.message == f"unknown variable '{unknown}'"


@pytest.mark.parametrize(
    "source",
    [
        "{{ booking.number.upper() }}",
        "{% for x in [1] %}{{ x.y }}{% endfor %}",
        "{% set b = booking %}{{ b.anything }}",
        "{{ booking.number|upper }}",
        "{{ broken",
    ],
)
def test_check_names_leaves_locals_methods_and_syntax_to_rendering(source):
    check_names("text_body", source, {"booking": {"number": "TT-000001"}})
