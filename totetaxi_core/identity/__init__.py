"""Identity and security: staff and customers, sessions, tokens, throttling, permissions.

``config.include("totetaxi_core.identity")`` installs the security policy (bearer token, then
session cookie), CSRF checks on cookie-authenticated unsafe requests, the root ACL (core and
plugin permissions), and the account API.
"""

from __future__ import annotations

from pyramid.config import Configurator
from pyramid.csrf import check_csrf_token  # noqa: F401  (re-exported for console forms)
from pyramid.events import NewRequest

from .models import Customer, PrincipalKind, Role, SavedAddress, StaffUser
from .permissions import CORE_GRANTS, GRANTEES, Permission, Root, build_acl
from .security import (
    Identity,
    SecurityPolicy,
    SessionCSRFStoragePolicy,
    accept_any_body,
    csrf_applies,
    guard_unsafe_requests,
)
from .sessions import make_store
from .throttle import Throttles, make_backend

__all__ = [
    "Customer",
    "Identity",
    "Permission",
    "PrincipalKind",
    "Role",
    "SavedAddress",
    "StaffUser",
]


def _plugin_grants(config: Configurator) -> list[tuple[str, str]]:
    grants = list(CORE_GRANTS.items())
    platform = getattr(config.registry, "platform", None)
    for plugin in platform.enabled if platform is not None else ():
        for permission, grantee in plugin.manifest.permissions.items():
            from ..errors import PluginError

            if grantee not in GRANTEES:
                raise PluginError(
                    f"Plugin '{plugin.name}' grants permission '{permission}' to unknown "
                    f"'{grantee}'; use one of {', '.join(GRANTEES)}."
                )
            if not permission.startswith(plugin.name + "."):
                raise PluginError(
                    f"Plugin '{plugin.name}' declares permission '{permission}'; a plugin's "
                    f"permissions are named '{plugin.name}.<something>' (core permissions "
                    f"cannot be granted by plugins)."
                )
            grants.append((permission, grantee))
    return grants


def includeme(config: Configurator) -> None:
    settings = config.get_settings()
    registry = config.registry
    registry.session_store = make_store(settings)
    registry.throttles = Throttles.from_settings(
        settings, make_backend(settings, registry["dbsession_factory"])
    )
    registry.root_acl = build_acl(_plugin_grants(config))
    config.set_root_factory(Root)
    config.set_security_policy(SecurityPolicy())
    config.set_csrf_storage_policy(SessionCSRFStoragePolicy())
    config.add_subscriber(guard_unsafe_requests, NewRequest)
    config.add_directive("accept_any_body", accept_any_body)
    config.set_default_csrf_options(
        require_csrf=True,
        token="csrf_token",  # noqa: S106 - the form field's name
        header="X-CSRF-Token",
        callback=csrf_applies,
    )
    # Secure by default: a view that names no permission is for signed-in staff only.
    # Public views say permission=NO_PERMISSION_REQUIRED explicitly.
    config.set_default_permission(Permission.STAFF_READ)
    config.include(".api")
    from . import services
    from .housekeeping import PURGE_TASK, purge_expired

    config.add_task(purge_expired, name=PURGE_TASK)
    config.add_task(services.password_reset_task, name=services.RESET_TASK, max_retries=3)
    config.add_periodic_task(PURGE_TASK, 3600, entry="identity-purge")
