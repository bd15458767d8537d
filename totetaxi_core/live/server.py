"""Serving the live app: ``totetaxi live CONFIG`` in production, one process with the web app in
development.

**Production** runs the live app as processes of their own (``totetaxi live production.ini
--host 0.0.0.0 --port 6544``): uvicorn, one event loop holding thousands of idle connections,
fed by Redis (``totetaxi.live_backend = redis``). Web processes (gunicorn) and live processes
scale apart; the proxy in front sends ``/api/v1/live`` (WebSocket upgrades and the event
stream) to the live processes and everything else to the web, so pages and apps reach both on
one origin.

**Development** (``make run``: ``[server:main] use = egg:totetaxi-core#development``) serves
the web app and the live app from one uvicorn process on one port: ``/api/v1/live...`` goes to
the live app, everything else to the Pyramid app, run in a pool of threads (a2wsgi) as waitress
runs it. One port is the production picture (pages connect to their own origin, the cookie and
the Content-Security-Policy's ``connect-src 'self'`` need nothing else) and one process is what
the in-process bus needs: a web thread's commit reaches the live app's loop directly, with no
Redis. waitress cannot hold a WebSocket; a live server in a thread beside it would need a second
port, hence another origin for the pages. ``pserve development.ini --server-name waitress``
still serves the web app alone.
"""

from __future__ import annotations

import logging
from typing import Any

from pyramid.router import Router

from .app import PATH, LiveApp, Receive, Scope, Send

log = logging.getLogger("totetaxi.live")

#: uvicorn's WebSocket implementation: its sends wait while the client's socket is full, which
#: is what lets a slow client fall behind and be dropped (see :mod:`.hub`).
WS_IMPLEMENTATION = "websockets-sansio"


class OneOrigin:
    """The development composition: the live paths to the live app, the rest to the web app."""

    def __init__(self, live: LiveApp, web: Any) -> None:
        self.live, self.web = live, web

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "lifespan" or path == PATH or path.startswith(PATH + "/"):
            await self.live(scope, receive, send)
        else:
            await self.web(scope, receive, send)


def one_origin(router: Router, threads: int = 8) -> OneOrigin:
    """The web app (in ``threads`` threads) and its live app behind one ASGI callable."""
    from a2wsgi import WSGIMiddleware

    return OneOrigin(LiveApp(router), WSGIMiddleware(router, workers=threads))


def uvicorn_config(app: Any, host: str, port: int, **options: Any) -> Any:
    """uvicorn's configuration for a live app (the CLI's and the tests')."""
    import uvicorn

    options.setdefault("log_config", None)  # the .ini's logging is already set up
    options.setdefault("access_log", False)
    return uvicorn.Config(app, host=host, port=port, ws=WS_IMPLEMENTATION, lifespan="on", **options)


def serve_live(router: Router, host: str, port: int, proxy: str | None = None) -> None:
    """Run the live app of ``router``'s configuration until stopped (TERM or Ctrl-C)."""
    import uvicorn

    options: dict[str, Any] = {"timeout_graceful_shutdown": 10}
    if proxy:  # only the proxy's forwarded headers are believed
        options.update(proxy_headers=True, forwarded_allow_ips=proxy)
    else:
        options["proxy_headers"] = False
    if router.registry.settings["totetaxi.live_backend"] == "memory":
        # Nothing reaches a separate process through the in-process bus.
        log.warning(
            "totetaxi.live_backend = memory: this live process hears only events published in "
            "it; set totetaxi.live_backend = redis to serve the web processes' events"
        )
    log.info("totetaxi live on %s:%s", host, port)
    uvicorn.Server(uvicorn_config(LiveApp(router), host, port, **options)).run()


def development(
    wsgi_app: Router, global_conf: dict[str, Any], listen: str = "127.0.0.1:6543", **kw: Any
) -> None:
    """PasteDeploy server runner (``use = egg:totetaxi-core#development``): the web app and the
    live app from one uvicorn process on ``listen``; ``threads`` (8) serve the web app."""
    import uvicorn

    host, _, port = listen.rpartition(":")
    threads = int(kw.get("threads", 8))
    config = uvicorn_config(one_origin(wsgi_app, threads), host or "127.0.0.1", int(port))
    uvicorn.Server(config).run()
