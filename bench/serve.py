"""One server of the HTTP benchmark (run by ``bench/http_load.py`` as a subprocess).

``python bench/serve.py app SQLALCHEMY_URL PORT`` serves the platform with the development
defaults (eager tasks, mock plugins); ``python bench/serve.py ini CONFIG PORT`` serves the app of
an ``.ini`` (``production.ini``, its settings completed from the environment) with that file's
logging; ``python bench/serve.py baseline - PORT`` serves a bare Pyramid JSON view: the floor
every figure is divided by. ``--server waitress`` (the default: one process, 4 threads) or
``--server gunicorn --workers N`` (the production runner, ``totetaxi_core.server``, with the
options of ``--config``'s ``[server:main]``: gthread workers, threads, recycling); a baseline and
an app given the same ``--server``, ``--workers`` and ``--config`` run on the same server
configuration.
"""

from __future__ import annotations

import argparse
from typing import Any

import waitress
from pyramid.config import Configurator

#: The same waitress configuration for every server: waitress' defaults but for the thread count.
SERVER = {"host": "127.0.0.1", "threads": 4, "ident": "bench", "_quiet": True}

DEV_PLUGINS = "pricing payments_mock notifications mail_console"


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


def ini_app(config: str):
    from pyramid.paster import get_app, setup_logging

    setup_logging(config)
    return get_app(config)


def section(config: str, name: str) -> dict[str, Any]:
    import plaster

    settings = plaster.get_loader(config, protocols=["wsgi"]).get_settings(name)
    return {k: v for k, v in settings.items() if k not in {"use", "here", "__file__"}}


def serve(app: Any, port: int, server: str, workers: int, config: str | None) -> None:
    if server == "waitress":
        options = dict(SERVER)
        if config:  # the .ini's own waitress section: its proxy and body settings
            options.update(section(config, "server:waitress"))
            options.pop("listen", None)
            options.update(host="127.0.0.1", threads=SERVER["threads"])
        waitress.serve(app, port=port, **options)
        return
    from totetaxi_core.server import run, server_options

    conf = section(config, "server:main") if config else {}
    conf.pop("listen", None)
    conf.pop("bind", None)
    options, own = server_options(conf, environ={})
    options.update(bind=[f"127.0.0.1:{port}"], workers=workers, threads=SERVER["threads"])
    run(app, options, own, name=f"bench-{port}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=["app", "ini", "baseline"])
    parser.add_argument("source", help="database URL (app), .ini path (ini), - (baseline)")
    parser.add_argument("port", type=int)
    parser.add_argument("--plugins", default=DEV_PLUGINS, help="app only")
    parser.add_argument("--server", choices=["waitress", "gunicorn"], default="waitress")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn only")
    parser.add_argument("--config", help="the .ini whose server sections to follow")
    args = parser.parse_args(argv)
    if args.kind == "baseline":
        app = baseline()
    elif args.kind == "ini":
        app = ini_app(args.source)
        args.config = args.config or args.source
    else:
        app = platform_app(args.source, args.plugins)
    serve(app, args.port, args.server, args.workers, args.config)


if __name__ == "__main__":
    main()
