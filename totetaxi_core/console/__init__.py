"""The staff console: layout, login, navigation, error pages, staff administration."""

from __future__ import annotations

from pyramid.config import Configurator


def includeme(config: Configurator) -> None:
    config.add_jinja2_search_path("totetaxi_core:console/templates", name=".jinja2")
    config.add_route("console_login", "/console/login")
