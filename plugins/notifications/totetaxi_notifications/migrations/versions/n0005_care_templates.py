"""notifications: the customer-care templates (emails staff send by hand) where installed already

Revision ID: n0005
Revises: n0004
Create Date: 2026-12-04 10:00:00

As n0003: the seed runs once, at install, so a database installed before the customer-care
templates (:data:`totetaxi_notifications.defaults.CARE_KEYS`) gets each one that is missing here,
with the text of :mod:`totetaxi_notifications.defaults`; a template there already is never
touched. On a new database it runs before the seed, which then adds the others.
"""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
from alembic import op
from totetaxi_notifications.defaults import CARE_KEYS, DEFAULTS

import totetaxi_core.db.types

revision = "n0005"
down_revision = "n0004"
branch_labels = None
depends_on = None

# The table as n0001 made it: the model may gain columns in later revisions, this one must not
# write them.
templates = sa.table(
    "notifications_templates",
    sa.column("id", sa.Uuid()),
    sa.column("key", sa.String()),
    sa.column("name", sa.String()),
    sa.column("description", sa.String()),
    sa.column("variables", sa.JSON()),
    sa.column("subject", sa.String()),
    sa.column("text_body", sa.Text()),
    sa.column("html_body", sa.Text()),
    sa.column("version", sa.Integer()),
    sa.column("updated_by", sa.Uuid()),
    sa.column("created_at", totetaxi_core.db.types.UTCDateTime(timezone=True)),
    sa.column("updated_at", totetaxi_core.db.types.UTCDateTime(timezone=True)),
)


def upgrade() -> None:
    bind = op.get_bind()
    existing = set(bind.scalars(sa.select(templates.c.key)))
    now = dt.datetime.now(dt.UTC)
    rows = [
        {
            "id": uuid.uuid4(),
            "key": default.key,
            "name": default.name,
            "description": default.description,
            "variables": dict(default.variables),
            "subject": default.subject,
            "text_body": default.text_body,
            "html_body": default.html_body,
            "version": 1,
            "updated_by": None,
            "created_at": now,
            "updated_at": now,
        }
        for default in DEFAULTS
        if default.key in CARE_KEYS and default.key not in existing
    ]
    if rows:
        op.bulk_insert(templates, rows)


def downgrade() -> None:
    # The templates stay: staff may have edited them, and an unused template harms nothing
    # (upgrading again leaves an existing one as it is).
    pass
