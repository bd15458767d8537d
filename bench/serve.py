"""One server of the HTTP benchmark (run by ``bench/http.py`` as a subprocess).

``python bench/serve.py app SQLALCHEMY_URL PORT [PLUGINS]`` serves the platform with the
development defaults (eager tasks, mock plugins) on waitress; ``python bench/serve.py baseline -
PORT`` serves a bare Pyramid JSON view with the same waitress settings: the floor every figure is
divided by.
"""

from __future__ import annotations

import sys

import waitress
from pyramid.config import Configurator

#: The same server configuration for both: waitress' defaults but for the thread count.
SERVER = {"host": "127.0.0.1", "threads": 4, "ident": "bench", "_quiet": True}


def baseline():
    """A bare Pyramid app: one JSON view taking GET and POST (it reads a JSON body if sent)."""

    def bare(request):
        if request.body:
            request.json_body  # noqa: B018 - parse as the real views do
        return {"ok": True}

    with Configurator() as config:
        config.add_route("bare", "/bare")
        config.add_view(bare, route_name="bare", renderer="json")
        return config.make_wsgi_app()


def platform_app(url: str, plugins: str):
    from totetaxi_core import make_app
    from totetaxi_core.platform import prepare

    settings = {
        "sqlalchemy.url": url,
        "totetaxi.plugins": plugins,
        "totetaxi.environment": "development",
        "totetaxi.tasks_mode": "eager",
        "retry.attempts": "3",
    }
    return make_app(prepare(settings))


def main(argv: list[str]) -> None:
    kind, url, port = argv[1], argv[2], int(argv[3])
    plugins = argv[4] if len(argv) > 4 else "pricing payments_mock notifications mail_console"
    app = baseline() if kind == "baseline" else platform_app(url, plugins)
    waitress.serve(app, port=port, **SERVER)


if __name__ == "__main__":
    main(sys.argv)
