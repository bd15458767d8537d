"""The staff console: layout, login, navigation, error pages, staff administration.

Plugins add console pages with their own routes under ``/console/...`` and templates that
``{% extends "totetaxi_core:console/templates/layout.jinja2" %}`` (blocks ``title`` and
``content``); navigation entries come from their ``totetaxi_console_nav`` implementation. Forms
include ``{{ csrf_input(request) }}``.
"""

from __future__ import annotations

from pyramid.config import Configurator

from .helpers import register_globals


def includeme(config: Configurator) -> None:
    config.add_jinja2_search_path("totetaxi_core:console/templates", name=".jinja2")
    register_globals(config)
    config.add_route("console_bare", "/console")
    config.add_route("console_home", "/console/")
    config.add_route("console_login", "/console/login")
    config.add_route("console_logout", "/console/logout")
    config.add_route("console_staff", "/console/staff")
    config.add_route("console_staff_role", "/console/staff/{id}/role")
    config.add_route("console_staff_active", "/console/staff/{id}/active")
    config.scan(".views")
    config.scan(".staff")
