"""The production web server: gunicorn, several worker processes, from ``[server:main]``.

``use = egg:totetaxi-core#gunicorn`` (entry point ``paste.server_runner``) makes ``pserve
production.ini`` run the app under gunicorn's master process with ``workers`` processes of
``threads`` threads each (gthread workers). Development keeps waitress (one process).

**Preloaded, then forked.** ``pserve`` builds the app before it calls a server runner, so the
master holds the app and every worker is a fork of it. That is the decision, not an accident:
a bad setting, a missing plugin or a schema behind the code stops the master once, with its
sentence, instead of every worker failing to boot in turn; a worker forks in milliseconds, so
``max_requests`` recycling and a ``HUP`` cost no start-up; the code is shared copy-on-write. What
the app opened before the fork must not be shared: the master disposes of the SQLAlchemy pool
(closing the connection the schema check used) and every worker drops whatever pool it inherited
at ``post_fork`` (``engine.dispose(close=False)``, SQLAlchemy's recipe: the parent's sockets stay
the parent's). redis-py checks the process id and opens its own connections in a child; Celery
makes its producer pool at the first publish, which only a worker does; the master never serves a
request. Anything else a plugin opens at start-up must be opened lazily too.

**Signals** (to the master, the ``pserve`` process): ``HUP`` replaces every worker gracefully —
new ones forked, old ones finish the requests they have and exit, the listening socket stays open
(reopens log files too); it re-reads the server options but not the app's, since the app is
preloaded: new code or settings need a restart (or ``USR2`` to start a new master beside the old
one, then ``TERM`` the old). ``TERM`` drains: workers stop accepting, finish within
``graceful_timeout`` and exit. ``TTIN``/``TTOU`` add or remove a worker.

**Forwarded headers.** gunicorn itself only trusts ``X-Forwarded-Proto`` (from
``forwarded_allow_ips``), while WebOb's ``request.client_addr`` (login throttles, audit, the
request log) believes any ``X-Forwarded-For``. So the app is wrapped in waitress' own proxy-header
translation with the same keys as waitress' section (``trusted_proxy``, ``trusted_proxy_count``,
``trusted_proxy_headers``): from the trusted proxy the forwarded client address and scheme are
used, from anyone else the forwarded headers are removed. ``max_request_body_size`` bounds a body
as waitress does (413 before the app; a chunked body is read up to the limit, never further).
"""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .errors import SettingsError

log = logging.getLogger("totetaxi.server")

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

#: gunicorn settings the platform chooses when ``[server:main]`` does not.
DEFAULTS: dict[str, str] = {
    "workers": "2",
    "threads": "4",
    "worker_class": "gthread",
    "max_requests": "10000",
    "max_requests_jitter": "1000",
    "timeout": "60",
    "graceful_timeout": "30",
    "keepalive": "5",
    # gunicorn 25+ opens a control socket at one path per user ($HOME/.gunicorn/gunicorn.ctl):
    # two masters on a machine would fight over it. Signals are the interface here; set
    # control_socket to a path of this instance's own and this to false to use gunicornc.
    "control_socket_disable": "true",
}

#: Environment variables that override a key of ``[server:main]``.
ENVIRONMENT = {"workers": "TOTETAXI_WEB_WORKERS", "threads": "TOTETAXI_WEB_THREADS"}

#: The address(es) to listen on instead of ``listen`` (a container publishes 0.0.0.0:6543, the
#: on-machine rehearsal a loopback port of its own).
LISTEN_VARIABLE = "TOTETAXI_WEB_LISTEN"

#: Keys read by this runner, not gunicorn (waitress' names, so both sections read alike).
OWN_KEYS = frozenset(
    {"listen", "trusted_proxy", "trusted_proxy_count", "trusted_proxy_headers",
     "max_request_body_size"}
)  # fmt: skip

#: Keys pserve or PasteDeploy put in every section.
IGNORED_KEYS = frozenset({"use", "here", "__file__", "paste.server_factory"})

#: gunicorn settings this runner owns: the app is always preloaded (see the module docstring).
FIXED = {"preload_app": True}

DEFAULT_BODY_LIMIT = 16 * 1024 * 1024


def _count(key: str, raw: str, source: str) -> int:
    text = str(raw).strip().lower()
    if key == "workers" and text == "auto":
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if not text.isdigit() or int(text) < 1:
        raise SettingsError(
            f"Server setting '{key}' ({source}) must be a whole number of at least 1"
            + (" or auto (one per core)" if key == "workers" else "")
            + f", got {raw!r}."
        )
    return int(text)


def server_options(
    local_conf: Mapping[str, Any], environ: Mapping[str, str] | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(gunicorn settings, the runner's own)`` of a ``[server:main]`` section.

    Defaults first (:data:`DEFAULTS`), then the section, then the environment
    (:data:`ENVIRONMENT`). Every gunicorn setting may be given by its name; an unknown key or a
    value gunicorn refuses stops start-up with a sentence naming it.
    """
    from gunicorn.config import Config

    environ = os.environ if environ is None else environ
    conf = {k: v for k, v in local_conf.items() if k not in IGNORED_KEYS}
    own = {k: conf.pop(k) for k in list(conf) if k in OWN_KEYS}
    options: dict[str, Any] = {**DEFAULTS, **conf}
    for key in FIXED:
        if key in conf:
            raise SettingsError(
                f"Server setting '{key}' cannot be changed: pserve builds the app before the "
                "server starts, so the workers are always forks of it (see totetaxi_core.server)."
            )
    for key, variable in ENVIRONMENT.items():
        source = "[server:main]"
        if environ.get(variable, "").strip():
            options[key], source = environ[variable], variable
        options[key] = _count(key, options[key], source)
    if environ.get(LISTEN_VARIABLE, "").strip():
        own["listen"] = environ[LISTEN_VARIABLE]
    if "listen" in own:
        if "bind" in options:
            raise SettingsError("Server settings 'listen' and 'bind' are one thing: give one.")
        options["bind"] = str(own["listen"]).split()
    options.update(FIXED)
    # gunicorn's own use of the forwarded scheme (wsgi.url_scheme) trusts the same peer only.
    options.setdefault("forwarded_allow_ips", own.get("trusted_proxy") or "")
    check = Config()
    for key, value in options.items():
        if key not in check.settings:
            raise SettingsError(
                f"Unknown server setting '{key}' in [server:main]: use gunicorn's setting names "
                "(workers, threads, bind, max_requests, graceful_timeout, ...) or listen, "
                "trusted_proxy, trusted_proxy_count, trusted_proxy_headers, "
                "max_request_body_size."
            )
        try:
            check.set(key, value)
        except (TypeError, ValueError) as exc:
            raise SettingsError(f"Server setting '{key}' = {value!r} is refused: {exc}") from None
    return options, own


def wrap(app: WSGIApp, own: Mapping[str, Any]) -> WSGIApp:
    """The app behind the body limit and waitress' forwarded-header translation."""
    from waitress.proxy_headers import proxy_headers_middleware

    headers = {h.strip().lower() for h in str(own.get("trusted_proxy_headers", "")).split() if h}
    try:
        count = int(own.get("trusted_proxy_count", 1))
        limit = int(own.get("max_request_body_size", DEFAULT_BODY_LIMIT))
    except ValueError as exc:
        raise SettingsError(f"Server settings: a number was expected ({exc}).") from None
    translated = proxy_headers_middleware(
        app,
        trusted_proxy=own.get("trusted_proxy") or None,
        trusted_proxy_count=count,
        trusted_proxy_headers=headers,
        clear_untrusted=True,
    )
    return limit_body(translated, limit)


def limit_body(app: WSGIApp, limit: int) -> WSGIApp:
    """Answer 413 to a body over ``limit`` bytes without reading more than ``limit + 1``."""

    def too_large(start_response: Callable[..., Any]) -> list[bytes]:
        body = b"Request body too large.\n"
        start_response(
            "413 Request Entity Too Large",
            [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))],
        )
        return [body]

    def limited(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        length = environ.get("CONTENT_LENGTH") or ""
        if length.isdigit():
            if int(length) > limit:
                return too_large(start_response)
        elif "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
            body = environ["wsgi.input"].read(limit + 1)
            if len(body) > limit:
                return too_large(start_response)
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
        return app(environ, start_response)

    return limited


def _engine(app: Any) -> Any:
    registry = getattr(app, "registry", None)
    return registry.get("dbengine") if registry is not None else None


def run(app: Any, options: Mapping[str, Any], own: Mapping[str, Any], name: str = "") -> None:
    """Serve ``app`` with gunicorn and these options until the master is stopped."""
    from gunicorn.app.base import BaseApplication

    engine = _engine(app)
    if engine is not None:
        engine.dispose()  # the master keeps no connection open

    def post_fork(server: Any, worker: Any) -> None:
        if engine is not None:
            engine.dispose(close=False)  # a fresh pool; the parent's sockets stay the parent's

    def child_exit(server: Any, worker: Any) -> None:
        from .ops.metrics import mark_process_dead

        mark_process_dead(worker.pid)  # its pool gauges leave the sums (multiprocess metrics)

    wsgi = wrap(app, own)

    class Server(BaseApplication):
        def load_config(self) -> None:
            if name:
                self.cfg.set("default_proc_name", name)
            for key, value in options.items():
                self.cfg.set(key, value)
            self.cfg.set("post_fork", post_fork)
            self.cfg.set("child_exit", child_exit)

        def load(self) -> WSGIApp:
            return wsgi

    Server().run()


def serve(app: Any, global_conf: Mapping[str, Any], **local_conf: Any) -> None:
    """PasteDeploy server runner: ``[server:main]`` ``use = egg:totetaxi-core#gunicorn``."""
    options, own = server_options(local_conf)
    config_file = global_conf.get("__file__", "")
    if config_file and "logconfig" not in options and _has_loggers(config_file):
        # gunicorn's own loggers (worker boots, signals) go through the .ini's handlers too.
        options["logconfig"] = config_file
    log.info(
        "gunicorn: %s workers x %s threads on %s",
        options["workers"],
        options["threads"],
        " ".join(options.get("bind") or ["127.0.0.1:8000"]),
    )
    run(app, options, own, name=config_file)


def _has_loggers(path: str) -> bool:
    import configparser

    parser = configparser.ConfigParser(interpolation=None)
    parser.read([path])
    return parser.has_section("loggers")
