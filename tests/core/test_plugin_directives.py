"""The registration directives and extension points of the plugin API.

* ``config.add_periodic_task(name, every, *, entry=None)`` beside ``config.add_task``;
* named services (pyramid_services) and ``find_service`` for plugin state;
* ``config.add_hookspecs(module)``: a plugin's own hooks (the example plugin declares one);
* the booking page's panels: ``panel_state`` and ``render_booking_page``;
* the core's hookspecs carry real type hints, and every new name is in the facade.

Most of these need no database: a bare Configurator with the core's parts the directive lives in.
"""

from __future__ import annotations

import datetime as dt
import inspect
import math
import re
import typing
import uuid
from pathlib import Path
from typing import Any

import pytest
from pluggy import PluginValidationError
from pyramid.config import Configurator
from pyramid.exceptions import ConfigurationConflictError
from pyramid.request import Request, apply_request_extensions
from pyramid.security import NO_PERMISSION_REQUIRED
from support.bookings import NOW, book_as_guest, set_clock
from support.console import page_of, staff_browser, text_of
from totetaxi_example import hookspecs as example_hookspecs
from totetaxi_example.models import ExampleNote
from webtest import TestApp

from totetaxi_core import plugin_api
from totetaxi_core.bookings.models import Booking
from totetaxi_core.context import Context
from totetaxi_core.hooks import HookBus, specs
from totetaxi_core.platform import prepare
from totetaxi_core.plugin_api import (
    Permission,
    RegistrationError,
    find_service,
    hookimpl,
    hookspec,
    render_booking_page,
)
from totetaxi_core.testing import base_settings

ROOT = Path(__file__).resolve().parents[2]
FACTS = "totetaxi_core:console/templates/panel_facts.jinja2"


def bare_config() -> Configurator:
    """The core's service registry, hooks and tasks on validated settings; no database."""
    config = Configurator(settings=prepare(base_settings("sqlite://"), environ={}).settings)
    config.include("totetaxi_core.service_registry")
    config.include("totetaxi_core.hooks")
    config.include("totetaxi_core.tasks")
    return config


def nothing(ctx: Context) -> None:
    """A task that does nothing."""


@pytest.fixture
def app(make_testapp: Any) -> TestApp:
    """test_console_bookings' app: the pricing plugin on its fixed clock."""
    testapp = make_testapp(**{"totetaxi.plugins": "pricing"})
    set_clock(testapp, NOW)
    return testapp


# --- add_periodic_task ----------------------------------------------------------------------------


def test_a_periodic_task_goes_into_beats_schedule_under_its_name_or_entry():
    config = bare_config()
    config.add_task(nothing, name="test.tick")
    config.add_periodic_task("test.tick", 60)
    config.add_periodic_task("test.tick", dt.timedelta(minutes=5), entry="test-tick-slow")
    schedule = config.registry.celery.conf.beat_schedule
    assert schedule["test.tick"] == {"task": "test.tick", "schedule": 60.0}
    assert schedule["test-tick-slow"] == {"task": "test.tick", "schedule": 300.0}
    assert "outbox-sweep" in schedule  # the core's own entry is untouched


def test_a_periodic_task_must_be_a_registered_task():
    config = bare_config()
    with pytest.raises(RegistrationError, match=r"no task 'test\.nowhere'.*config\.add_task"):
        config.add_periodic_task("test.nowhere", 60)


@pytest.mark.parametrize(
    "every", [0, -1, 0.0, dt.timedelta(0), math.nan, math.inf, "60", True, None]
)
def test_a_period_must_be_a_positive_number_of_seconds(every: Any):
    config = bare_config()
    config.add_task(nothing, name="test.tick")
    with pytest.raises(RegistrationError, match=r"Periodic task 'test\.tick'.*period"):
        config.add_periodic_task("test.tick", every)
    assert "test.tick" not in config.registry.celery.conf.beat_schedule


def test_an_entry_is_declared_once_and_a_task_registered_once():
    config = bare_config()
    config.add_task(nothing, name="test.tick")
    config.add_periodic_task("test.tick", 60)
    with pytest.raises(RegistrationError, match="declared twice"):
        config.add_periodic_task("test.tick", 30)
    with pytest.raises(RegistrationError, match="declared twice"):
        config.add_periodic_task("test.tick", 30, entry="outbox-sweep")
    with pytest.raises(RegistrationError, match="registered twice") as caught:
        config.add_task(nothing, name="test.tick")
    assert isinstance(caught.value, ValueError)  # what add_task raised before


def test_plugins_write_nothing_into_celery_nor_attributes_onto_the_registry():
    """Periodic tasks go through add_periodic_task, plugin state through services."""
    offenders = []
    for path in [
        *ROOT.glob("plugins/*/totetaxi_*/**/*.py"),
        *ROOT.glob("tests/example_plugin/totetaxi_*/**/*.py"),
    ]:
        text = path.read_text()
        if "beat_schedule" in text or re.search(r"\bregistry\.\w+\s*=[^=]", text):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


# --- services -------------------------------------------------------------------------------------


def test_a_service_is_found_by_name_from_a_registry_or_a_context_without_request():
    config = bare_config()
    catalog = object()
    made: list[Any] = []
    config.register_service(catalog, name="test.catalog")
    config.register_service_factory(
        lambda context, request: made.append(request) or len(made), name="test.counter"
    )
    config.commit()
    registry = config.registry
    ctx = Context(registry=registry, dbsession=None, transaction_manager=None)  # type: ignore[arg-type]
    assert find_service(registry, "test.catalog") is catalog
    assert find_service(ctx, "test.catalog") is catalog
    # A factory runs per lookup outside a request, and gets no request.
    assert find_service(registry, "test.counter") == 1
    assert find_service(ctx, "test.counter") == 2
    assert made == [None, None]
    with pytest.raises(LookupError, match=r"No service named 'test\.nowhere'.*register_service"):
        find_service(registry, "test.nowhere")


def test_two_plugins_cannot_register_the_same_service_name():
    config = bare_config()

    def one(config: Configurator) -> None:
        config.register_service(object(), name="test.shared")

    def two(config: Configurator) -> None:
        config.register_service(object(), name="test.shared")

    config.include(one)
    config.include(two)
    with pytest.raises(ConfigurationConflictError):
        config.commit()


def test_plugin_state_is_in_named_services_of_the_running_app(app: TestApp):
    from totetaxi_pricing.catalog import CatalogCache

    registry = app.app.registry
    cache = find_service(registry, "pricing.catalog")
    assert isinstance(cache, CatalogCache)
    assert not hasattr(registry, "pricing_catalog")
    # In a request the same (singleton) object comes from the request's container.
    request = Request.blank("/")
    request.registry = registry
    apply_request_extensions(request)
    assert hasattr(request, "find_service")
    assert find_service(request, "pricing.catalog") is cache
    # And pricing's quotes use it.
    cache.clear()
    app.post_json(
        "/api/v1/quotes",
        {"service_type": "mini_move", "package": "petite", "date": "2026-12-03"},
        status=200,
    )
    assert cache._entry is not None


# --- a plugin's own hookspecs ---------------------------------------------------------------------


class NoteWatcher:
    """Another plugin acting on the example plugin's domain event."""

    def __init__(self) -> None:
        self.seen: list[tuple[Any, str]] = []

    @hookimpl
    def totetaxi_example_note_created(self, ctx: Context, note: ExampleNote) -> None:
        self.seen.append((ctx, note.text))


def test_the_example_plugin_declares_a_typed_hook_and_calls_it(testapp: TestApp):
    bus: HookBus = testapp.app.registry.hooks
    caller = bus.pm.hook.totetaxi_example_note_created
    assert caller.spec is not None and caller.spec.namespace is example_hookspecs
    hints = typing.get_type_hints(example_hookspecs.totetaxi_example_note_created)
    assert hints == {"ctx": Context, "note": ExampleNote, "return": type(None)}
    watcher = NoteWatcher()
    bus.register(watcher, "watcher")
    testapp.post_json("/api/v1/example/notes", {"text": "call the doorman"}, status=201)
    [(ctx, text)] = watcher.seen
    assert isinstance(ctx, Context) and text == "call the doorman"


class NoHooks:
    def helper(self) -> None:
        """Not a hookspec."""


class ClashesWithTheCore:
    @hookspec
    def totetaxi_quote(self, ctx: Context) -> None:
        """The core's name."""


class Unprefixed:
    @hookspec
    def note_created(self, ctx: Context) -> None:
        """Not in the totetaxi_ namespace."""


class Declares:
    @hookspec
    def totetaxi_test_happened(self, ctx: Context, what: str) -> None:
        """Something happened."""


def test_add_hookspecs_refuses_no_hooks_a_core_name_and_the_same_hooks_twice():
    config = bare_config()
    with pytest.raises(RegistrationError, match="declares no hookspec"):
        config.add_hookspecs(NoHooks)
    with pytest.raises(RegistrationError, match="already exist: totetaxi_quote"):
        config.add_hookspecs(ClashesWithTheCore)
    with pytest.raises(RegistrationError, match="outside the totetaxi_ namespace: note_created"):
        config.add_hookspecs(Unprefixed)
    config.add_hookspecs(Declares)
    with pytest.raises(RegistrationError, match="already exist: totetaxi_test_happened"):
        config.add_hookspecs(Declares)


def test_implementations_are_checked_against_a_plugins_hookspecs():
    class Wrong:
        @hookimpl
        def totetaxi_test_happened(self, ctx, whatever):
            """``whatever`` is no argument of the hook."""

    bus = HookBus()
    bus.add_hookspecs(Declares)
    with pytest.raises(PluginValidationError):
        bus.register(Wrong(), "wrong")


def test_an_optional_implementation_of_an_absent_plugins_hook_starts():
    class Optional:
        @hookimpl(optionalhook=True)
        def totetaxi_test_happened(self, what):
            return what

    class Required:
        @hookimpl
        def totetaxi_test_happened(self, what):
            return what

    bus = HookBus()
    bus.register(Optional(), "optional")
    bus.check()  # the declaring plugin is not enabled: fine
    bus.register(Required(), "required")
    with pytest.raises(PluginValidationError):
        bus.check()


# --- booking-page panels --------------------------------------------------------------------------


class StatefulPanel:
    """A panel showing its plugin's state, and one written for the hook's older arguments."""

    def __init__(self) -> None:
        self.states: list[Any] = []

    @hookimpl
    def totetaxi_booking_panels(self, request, booking, panel_state):
        self.states.append(panel_state)
        shown = panel_state.get("test", {}).get("problem", "none")
        return [
            {
                "title": "Stateful",
                "template": FACTS,
                "order": 10,
                "context": {"facts": {"Problem": shown}},
            }
        ]


class PlainPanel:
    @hookimpl
    def totetaxi_booking_panels(self, request, booking):
        return [
            {
                "title": "Plain",
                "template": FACTS,
                "order": 20,
                "context": {"facts": {"Number": booking.number}},
            }
        ]


def refusing_view(request: Request) -> Any:
    """A plugin's view refusing its panel's form: the page again, the problem in the panel."""
    booking = request.dbsession.get(Booking, uuid.UUID(request.matchdict["id"]))
    return render_booking_page(
        request, booking, status=409, panel_state={"test": {"problem": "Too late <b>now</b>"}}
    )


def panel_texts(page: Any) -> list[str]:
    chunks = page.text.split('data-testid="panel">')[1:]
    return [" ".join(re.sub(r"<[^>]+>", " ", c.split("</div>")[0]).split()) for c in chunks]


def test_a_plugin_re_renders_the_booking_page_with_state_for_its_panel(app: TestApp):
    registry = app.app.registry
    stateful = StatefulPanel()
    registry.hooks.register(stateful, "stateful")
    registry.hooks.register(PlainPanel(), "plain")
    # What a plugin's includeme would do: its own route and view.
    config = Configurator(registry=registry)
    config.add_route("test_refuse", "/console/test/bookings/{id}/refuse")
    config.add_view(refusing_view, route_name="test_refuse", permission=Permission.STAFF_READ)
    config.commit()
    created = book_as_guest(app)
    browser = staff_browser(app, "viewer")

    page = page_of(browser, created["id"])
    assert dict(stateful.states[-1]) == {}
    assert [t for t in panel_texts(page) if t.startswith(("Stateful", "Plain"))] == [
        "Stateful Problem none",
        f"Plain Number {created['number']}",
    ]

    refused = browser.get(f"/console/test/bookings/{created['id']}/refuse", status=409)
    assert text_of(refused, "booking-number") == created["number"]
    assert "Stateful Problem Too late &lt;b&gt;now&lt;/b&gt;" in panel_texts(refused)
    state = stateful.states[-1]
    assert state["test"] == {"problem": "Too late <b>now</b>"}
    with pytest.raises(TypeError):
        state["other"] = 1  # read-only: one plugin cannot change what another sees


def test_the_booking_page_needs_staff_read_whatever_view_renders_it(app: TestApp):
    # A plugin view registered without a permission still cannot show a booking to anyone.
    config = Configurator(registry=app.app.registry)
    config.add_route("test_open", "/console/test/bookings/{id}/open")
    config.add_view(refusing_view, route_name="test_open", permission=NO_PERMISSION_REQUIRED)
    config.commit()
    created = book_as_guest(app)
    page = app.get(f"/console/test/bookings/{created['id']}/open", expect_errors=True)
    assert page.status_int in (302, 303, 403)
    assert created["number"] not in page.text


# --- typed hookspecs and the facade ---------------------------------------------------------------


CORE_HOOKSPECS = sorted(
    name
    for name, obj in vars(specs).items()
    if name.startswith("totetaxi_") and inspect.isfunction(obj)
)
#: Parameters whose type the core owns and must name.
TYPED = {"ctx": Context, "request": Request, "booking": Booking}


@pytest.mark.parametrize("name", CORE_HOOKSPECS)
def test_every_core_hookspec_has_real_type_hints(name: str):
    spec = getattr(specs, name)
    hints = typing.get_type_hints(spec)  # resolvable at run time, not just strings
    parameters = inspect.signature(spec).parameters
    assert set(parameters) | {"return"} == set(hints)
    for parameter, expected in TYPED.items():
        if parameter in parameters:
            # The core's own type, or it optional (totetaxi_timeline: a booking or a customer).
            assert hints[parameter] in (expected, expected | None), (
                f"{name}({parameter}: {hints[parameter]})"
            )


def test_the_plugin_api_exports_the_directives_helpers():
    assert {"RegistrationError", "find_service", "hookspec", "render_booking_page"} <= set(
        plugin_api.__all__
    )
    assert all(hasattr(plugin_api, name) for name in plugin_api.__all__)
    assert plugin_api.render_booking_page.__doc__ and plugin_api.find_service.__doc__
