"""Alembic environment shared by the core branch and every plugin branch.

Run through ``totetaxi migrate CONFIG`` (see :mod:`totetaxi_core.migrate`), which passes the
engine in ``config.attributes["engine"]`` and puts each plugin's versions folder on
``version_locations``. ``totetaxi revision`` (:mod:`totetaxi_core.revisions`) also passes
``include_object`` and ``process_revision_directives``, so that autogenerate writes only the
changes of the one branch it writes a revision for.
"""

from __future__ import annotations

from alembic import context

import totetaxi_core.db.append_only
import totetaxi_core.models  # noqa: F401  (every core table on the metadata)
from totetaxi_core.db import metadata

config = context.config
engine = config.attributes["engine"]

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead (PITFALLS 6).
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=config.attributes.get("include_object"),
        process_revision_directives=config.attributes.get("process_revision_directives"),
    )
    with context.begin_transaction():
        context.run_migrations()
