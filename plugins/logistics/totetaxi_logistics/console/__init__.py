"""The staff console pages of the logistics plugin.

* ``/console/logistics`` (:mod:`.board`): the dispatch board of one New York day, with the
  forms that assign, fail and reschedule a task (``logistics.dispatch``).
* ``/console/logistics/drivers`` (:mod:`.drivers`): the drivers; the mock fleet's are managed
  there (the forms are the ``logistics_mock`` plugin's routes, :mod:`..adapters.mock.console`).
* ``/console/logistics/analytics`` (:mod:`.analytics`): completion and on-time rates, failures
  by reason, per driver.
* The booking page's "Delivery" panel and the dashboard tiles (:mod:`.panels`, called from
  hooks.py).

A change redirects (303) back to its page with a ``?done=`` code naming a fixed sentence; a
refusal answers the page again with its 4xx status (which vetoes the commit) and the message
next to the task or the field at fault.
"""

from __future__ import annotations

from pyramid.config import Configurator
from pyramid.request import Request
from pyramid.security import NO_PERMISSION_REQUIRED

TEMPLATES = "totetaxi_logistics:templates/"
BOARD = TEMPLATES + "board.jinja2"
DRIVERS = TEMPLATES + "drivers.jinja2"
ANALYTICS = TEMPLATES + "analytics.jinja2"
PANEL = TEMPLATES + "_panel.jinja2"

#: The name of the simulated fleet's plugin (its buttons and driver forms).
MOCK_PLUGIN = "logistics_mock"

#: One-shot messages after a change: the query carries a code, never text.
MESSAGES: dict[str, str] = {
    "assigned": "Driver assigned.",
    "unassigned": "The task is back in the pool (no driver).",
    "failed": "Task marked failed.",
    "rescheduled": "Task rescheduled: a new attempt was made.",
    "advanced": "The mock fleet moved the task one step.",
    "completed": "The mock fleet completed the task.",
    "driver_added": "Driver added to the mock fleet.",
    "driver_saved": "Driver saved.",
    "driver_deactivated": "Driver deactivated.",
    "driver_activated": "Driver activated.",
}


def mock_enabled(request: Request) -> bool:
    """Is the simulated fleet (``logistics_mock``) enabled in this app?"""
    return MOCK_PLUGIN in (request.registry.settings.get("totetaxi.enabled_plugins") or ())


def includeme(config: Configurator) -> None:
    # The pages' stylesheet (the console's Content-Security-Policy allows no inline one).
    config.add_static_view(
        "console/static/logistics",
        "totetaxi_logistics:static",
        cache_max_age=3600,
        permission=NO_PERMISSION_REQUIRED,
    )
    config.add_route("logistics_board", "/console/logistics")
    config.add_route("logistics_task_assign_form", "/console/logistics/tasks/{id}/assign")
    config.add_route("logistics_task_fail_form", "/console/logistics/tasks/{id}/fail")
    config.add_route("logistics_task_reschedule_form", "/console/logistics/tasks/{id}/reschedule")
    config.add_route("logistics_drivers", "/console/logistics/drivers")
    config.add_route("logistics_analytics", "/console/logistics/analytics")
    config.scan(".board")
    config.scan(".drivers")
    config.scan(".analytics")
