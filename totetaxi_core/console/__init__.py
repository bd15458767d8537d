"""The staff console: layout, login, navigation, error pages, staff administration, and the
bookings and customers pages.

Plugins add console pages with their own routes under ``/console/...`` and templates that
``{% extends "totetaxi_core:console/templates/layout.jinja2" %}`` (blocks ``title`` and
``content``); navigation entries come from their ``totetaxi_console_nav`` implementation. Forms
include ``{{ csrf_input(request) }}``.

Pages carry no inline ``<script>``, ``<style>``, ``style=`` or ``on...=`` attribute: the
Content-Security-Policy (:mod:`totetaxi_core.ops.headers`) allows scripts and styles from this
origin's files only. The console's stylesheet is served under ``/console/static/core/``; a
plugin serves its own files with ``config.add_static_view("console/static/<plugin>", ...)``.
"""

from __future__ import annotations

from pyramid.config import Configurator
from pyramid.security import NO_PERMISSION_REQUIRED

from .helpers import register_globals


def includeme(config: Configurator) -> None:
    config.add_jinja2_search_path("totetaxi_core:console/templates", name=".jinja2")
    register_globals(config)
    # Public: the login page needs the stylesheet too. An hour's caching: a changed file is seen
    # within the hour without any versioning of its URL.
    config.add_static_view(
        "console/static/core",
        "totetaxi_core:console/static",
        cache_max_age=3600,
        permission=NO_PERMISSION_REQUIRED,
    )
    config.add_route("console_bare", "/console")
    config.add_route("console_home", "/console/")
    config.add_route("console_login", "/console/login")
    config.add_route("console_logout", "/console/logout")
    config.add_route("console_staff", "/console/staff")
    config.add_route("console_cancellation", "/console/cancellation-policy")
    config.add_route("console_staff_role", "/console/staff/{id}/role")
    config.add_route("console_staff_active", "/console/staff/{id}/active")
    config.add_route("console_bookings", "/console/bookings")
    config.add_route("console_booking", "/console/bookings/{id}")
    config.add_route("console_booking_edit", "/console/bookings/{id}/edit")
    config.add_route("console_booking_status", "/console/bookings/{id}/status")
    config.add_route("console_booking_cancel", "/console/bookings/{id}/cancel")
    config.add_route("console_customers", "/console/customers")
    config.add_route("console_customer", "/console/customers/{id}")
    config.add_route("console_audit", "/console/audit")
    config.add_route("console_account", "/console/account")
    config.add_route("console_plugins", "/console/plugins")
    config.scan(".views")
    config.scan(".staff")
    config.scan(".bookings")
    config.scan(".customers")
    config.scan(".cancellation")
    config.scan(".audit")
    config.scan(".account")
