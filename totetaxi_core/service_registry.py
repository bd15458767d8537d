"""Named services: where a plugin keeps its state (pyramid_services, DESIGN §2).

A plugin registers what it keeps for the life of the app (a catalog cache, a mailer, a gateway
client) from ``includeme`` under a name prefixed with its own name, as its settings are::

    config.register_service(CatalogCache(), name="pricing.catalog")
    config.register_service_factory(make_client, name="mail_ses.client")  # (context, request)

and finds it again with :func:`find_service`, in a view (``find_service(request, name)`` or
pyramid_services' own ``request.find_service(name=name)``) or wherever there is no request (a
Celery task, a hook called from the CLI: ``find_service(ctx, name)``). Never as an attribute set
on the registry: names are checked (a typo is a clear ``LookupError``), two plugins cannot
overwrite each other silently (pyramid's conflict detection refuses the same name twice), and
the registry's own attributes stay the core's.

Registrations are configuration actions: a service exists once the configuration is committed
(the app is made), not yet while ``includeme`` runs.
"""

from __future__ import annotations

from typing import Any

from pyramid.config import Configurator
from pyramid.interfaces import IRequest
from pyramid.registry import Registry
from pyramid.request import Request
from pyramid_services import IServiceRegistry, ProxyFactory, SingletonServiceWrapper
from zope.interface import Interface

__all__ = ["find_service"]


def find_service(where: Request | Registry | Any, name: str, iface: Any = Interface) -> Any:
    """The service registered under ``name``; ``LookupError`` when there is none.

    ``where`` is a request, a :class:`~totetaxi_core.context.Context` (a task's or a hook's
    ``ctx``) or the registry. A registered object is returned as is. A factory's service comes,
    in a request, from the request's container (the factory runs once per request); elsewhere the
    factory runs on every call with ``request=None`` (register a ready object with
    ``config.register_service`` for state shared by all).
    """
    request = where if isinstance(where, Request) else getattr(where, "request", None)
    try:
        registry: Registry = getattr(where, "registry", where)
        services = registry.queryUtility(IServiceRegistry)
        if services is None:
            raise LookupError(
                "this registry has no service registry "
                "(config.include('totetaxi_core.service_registry'))"
            )
        # A registered object (config.register_service) needs no container: creating one costs
        # hundreds of microseconds, and the quote path looks the catalog up on every call.
        factory = services.find_factory(iface, name=name)
        if isinstance(factory, ProxyFactory) and isinstance(
            factory.factory, SingletonServiceWrapper
        ):
            return factory.factory.service
        if isinstance(request, Request) and hasattr(request, "find_service"):
            return request.find_service(iface, name=name)
        container = services.create_container()
        # A factory is called as factory(context, request): outside a request both are None.
        container.register_singleton(None, IRequest)
        return container.get(iface, name=name)
    except LookupError as exc:
        # wired's own message names neither the service nor what to do.
        raise LookupError(
            f"No service named {name!r} is registered ({exc}); a plugin registers "
            "it from includeme with config.register_service(obj, name=...)."
        ) from exc


def includeme(config: Configurator) -> None:
    # register_service, register_service_factory, find_service_factory; request.find_service.
    config.include("pyramid_services")
