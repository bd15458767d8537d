"""The permissions of the 'monitoring_sentry' plugin and who holds them.

Reading takes the core's ``Permission.STAFF_READ`` (every staff role); changing takes
:data:`EDIT`, which the manifest grants to the ``staff`` role (and so to admins). Views and
templates ask for the permission (``request.has_permission(EDIT)``), never for a role.
"""

from __future__ import annotations

#: Create and change monitoring_sentry items.
EDIT = "monitoring_sentry.edit"

#: The manifest's ``permissions``: each permission and the least role that holds it.
GRANTS: dict[str, str] = {EDIT: "staff"}
