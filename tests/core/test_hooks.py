"""Hookspecs: documented in code and in the plugin author's guide; implementations checked."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest
from pluggy import PluginValidationError

from totetaxi_core.hooks import HookBus, hookimpl, specs

#: The plugin author's hook reference (moved out of README, which links to it).
HOOK_REFERENCE = Path(__file__).resolve().parents[2] / "docs" / "hooks.md"
HOOKSPECS = sorted(
    name
    for name, obj in vars(specs).items()
    if name.startswith("totetaxi_") and inspect.isfunction(obj)
)

DESIGN_HOOKS = {
    "totetaxi_quote",
    "totetaxi_availability",
    "totetaxi_payment_gateway",
    "totetaxi_dispatcher",
    "totetaxi_file_storage",
    "totetaxi_mailer",
    "totetaxi_validate_booking",
    "totetaxi_reserve_capacity",
    "totetaxi_release_capacity",
    "totetaxi_booking_created",
    "totetaxi_booking_status_changed",
    "totetaxi_payment_succeeded",
    "totetaxi_payment_failed",
    "totetaxi_refund_completed",
    "totetaxi_delivery_updated",
    "totetaxi_document_reviewed",
    "totetaxi_password_reset_requested",
    "totetaxi_console_nav",
    "totetaxi_dashboard_tiles",
    "totetaxi_booking_panels",
    "totetaxi_customer_summary",
}


def test_every_hook_the_design_names_is_declared():
    assert DESIGN_HOOKS <= set(HOOKSPECS)


@pytest.mark.parametrize("name", HOOKSPECS)
def test_hookspec_has_a_docstring(name):
    assert (getattr(specs, name).__doc__ or "").strip()


@pytest.mark.parametrize("name", HOOKSPECS)
def test_hookspec_is_in_the_plugin_authors_guide(name):
    guide = HOOK_REFERENCE.read_text().split("# Hook reference", 1)
    assert len(guide) == 2, "docs/hooks.md has no '# Hook reference' title"
    assert re.search(rf"`{name}\b", guide[1]), f"{name} is missing from docs/hooks.md"


def test_capability_hooks_return_the_first_answer():
    bus = HookBus()

    class First:
        @hookimpl
        def totetaxi_quote(self, ctx, draft):
            return None

    class Second:
        @hookimpl
        def totetaxi_quote(self, draft):
            return {"total_cents": 100}

    bus.register(First(), "first")
    bus.register(Second(), "second")
    assert bus.call("totetaxi_quote", ctx=None, draft={}) == {"total_cents": 100}


def test_rule_hooks_gather_every_answer(caplog):
    bus = HookBus(trace=True)

    class A:
        @hookimpl
        def totetaxi_validate_booking(self, draft):
            return [{"name": "date", "description": "full"}]

    class B:
        @hookimpl
        def totetaxi_validate_booking(self, ctx, customer):
            return [{"name": "coi", "description": "missing"}]

    bus.register(A(), "a")
    bus.register(B(), "b")
    caplog.set_level("INFO", logger="totetaxi.hooks")
    answers = bus.call("totetaxi_validate_booking", ctx=None, draft={}, quote=None, customer=None)
    assert sorted(p["name"] for problems in answers for p in problems) == ["coi", "date"]
    assert sorted(bus.implementers("totetaxi_validate_booking")) == ["a", "b"]
    [record] = [r for r in caplog.records if r.name == "totetaxi.hooks"]
    assert record.getMessage().startswith("hook totetaxi_validate_booking impls=")
    assert "'a'" in record.getMessage() and "'b'" in record.getMessage()


def test_an_implementation_of_an_unknown_hook_is_refused():
    bus = HookBus()

    class Typo:
        @hookimpl
        def totetaxi_booking_craeted(self, booking):
            pass

    bus.register(Typo(), "typo")
    with pytest.raises(PluginValidationError, match="totetaxi_booking_craeted"):
        bus.check()


def test_an_implementation_with_an_unknown_argument_is_refused():
    bus = HookBus()

    class Wrong:
        @hookimpl
        def totetaxi_booking_created(self, booking, bogus):
            pass

    with pytest.raises(PluginValidationError, match="bogus"):
        bus.register(Wrong(), "wrong")
