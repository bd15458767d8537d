"""The permissions of the logistics plugin and who holds them.

Reading (the board, drivers, analytics, staff tracking) takes the core's
``Permission.STAFF_READ``; dispatching work takes :data:`DISPATCH`, which the manifest grants
to the ``staff`` role (and so to admins). Views and templates ask for the permission, never for
a role.
"""

from __future__ import annotations

#: Assign drivers, fail and reschedule tasks, manage the mock fleet's drivers, drive the mock.
DISPATCH = "logistics.dispatch"

#: The manifest's ``permissions``: each permission and the least role that holds it.
GRANTS: dict[str, str] = {DISPATCH: "staff"}
