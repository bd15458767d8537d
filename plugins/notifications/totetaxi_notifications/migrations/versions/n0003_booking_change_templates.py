"""notifications: the booking change emails' templates where the plugin is installed already

Revision ID: n0003
Revises: n0002
Create Date: 2026-12-03 11:00:00

The plugin's seed runs once, when it is installed: a database installed before these templates
existed would never get them, and their emails would fail with "no email template". This
revision adds each of them that is missing (never touching a template staff edited), taking the
text from :mod:`totetaxi_notifications.defaults`. On a new database it runs before the seed,
which then adds the other templates.
"""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
from alembic import op
from totetaxi_notifications.defaults import BOOKING_CHANGE_KEYS, DEFAULTS

import totetaxi_core.db.types

revision = "n0003"
down_revision = "n0002"
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
        if default.key in BOOKING_CHANGE_KEYS and default.key not in existing
    ]
    if rows:
        op.bulk_insert(templates, rows)


def downgrade() -> None:
    # The templates stay: staff may have edited them, and an unused template harms nothing
    # (upgrading again leaves an existing one as it is).
    pass
