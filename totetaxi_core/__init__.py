"""ToteTaxi core: the Pyramid app factory and the platform every plugin stands on.

``main`` is the PasteDeploy app factory (``use = egg:totetaxi-core``). It validates settings,
resolves the enabled plugins, includes the core's parts and each plugin's ``includeme`` in
dependency order, and refuses to serve a database whose schema is behind the code.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

# pyramid 2.1 and cornice still import pkg_resources (PITFALLS 1); the warning is noise for ops.
warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=UserWarning)

from pyramid.config import Configurator  # noqa: E402
from pyramid.router import Router  # noqa: E402

from .context import Context, RequestContext  # noqa: E402
from .db import utcnow  # noqa: E402
from .ops.metrics import configure as configure_metrics  # noqa: E402
from .platform import Platform, prepare  # noqa: E402
from .request import AppRequest  # noqa: E402
from .version import __version__  # noqa: E402

__all__ = ["Context", "Platform", "__version__", "main", "make_app"]

log = logging.getLogger("totetaxi")


def _request_ctx(request: Any) -> Context:
    return RequestContext(request)


def make_app(platform: Platform) -> Router:
    """Build the WSGI application for an assembled :class:`Platform`."""
    # Before any metric is made: multiprocess mode (totetaxi.metrics_dir) is chosen per process.
    configure_metrics(platform.settings)
    config = Configurator(settings=platform.settings, request_factory=AppRequest)
    config.registry.platform = platform
    config.registry.clock = utcnow  # tests replace it to move time
    config.include("pyramid_jinja2")
    config.include(".db")
    config.include(".service_registry")
    config.include(".hooks")
    config.include(".tasks")
    config.include(".live")
    config.include(".ops")
    config.include(".api")
    config.include(".identity")
    config.include(".console")
    config.include(".bookings")
    config.include(".audit.api")
    config.add_request_method(_request_ctx, "ctx", reify=True)
    for plugin in platform.enabled:
        config.include(plugin.module.includeme)
    config.commit()
    config.registry.hooks.check()
    if platform.settings["totetaxi.check_schema"]:
        from .migrate import check_schema

        check_schema(platform, config.registry["dbengine"])
    log.info(
        "totetaxi %s serving with plugins: %s",
        __version__,
        ", ".join(platform.enabled_names) or "none",
    )
    app = config.make_wsgi_app()
    _bake_request_extensions(app)
    return app


def _bake_request_extensions(app: Router) -> None:
    """Give the router a request class that already has every ``add_request_method`` extension.

    Pyramid otherwise builds a new class per request to attach them (``type(...)`` with every
    property: a tenth of a millisecond on each request). The class is made once here with the
    same descriptors (``reify`` works on a class as on the per-request one); the registry keeps
    its extensions, so ``apply_request_extensions`` on a request made elsewhere (a script, a
    test) still works.
    """
    extensions = app.request_extensions
    if extensions is None:
        return
    base = app.request_factory
    attrs: dict[str, Any] = {"__module__": base.__module__}
    attrs.update(extensions.methods)
    attrs.update(dict(extensions.descriptors))
    app.request_factory = type(base.__name__, (base,), attrs)
    app.request_extensions = None


def main(global_config: dict[str, Any], **settings: Any) -> Router:
    """PasteDeploy entry point: ``pserve development.ini``."""
    settings.setdefault("totetaxi.config_file", global_config.get("__file__"))
    return make_app(prepare(settings))
