"""notifications: the delivery templates as 1.2.0 has them where the plugin is installed already

Revision ID: n0004
Revises: n0003
Create Date: 2026-12-03 17:00:00

The plugin's seed runs once, when it is installed. For databases installed before, this revision:

* adds each delivery template (:data:`totetaxi_notifications.defaults.DELIVERY_KEYS`) that is
  missing — ``delivery_rescheduled`` is new — with the text of
  :mod:`totetaxi_notifications.defaults`;
* declares the delivery variables added since (``delivery.kind``, ``delivery.window``) on the
  delivery templates there already, so staff may use them (the editor's preview offers a
  template only the variables it declares); their subject and bodies stay as they are;
* replaces the text of ``delivery_assigned`` when it is still 1.0's, word for word: that one
  said "will pick up your items" whichever task the driver took, and the email now goes for a
  drop-off too. A template staff edited is never touched.

On a new database it runs before the seed, which then adds the other templates.
"""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
from alembic import op
from totetaxi_notifications.defaults import DEFAULTS, DELIVERY_KEYS

import totetaxi_core.db.types

revision = "n0004"
down_revision = "n0003"
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

#: ``delivery_assigned`` as notifications 1.0 seeded it: (subject, text body, HTML body). Kept
#: here, not derived from the defaults, which have moved on.
ASSIGNED_1_0 = (
    "A driver is assigned to booking {{ booking.number }}",
    (
        "Hello{% if recipient.first_name %} {{ recipient.first_name }}{% endif %},\n\n{% if "
        "delivery.driver_name %}{{ delivery.driver_name }} will{% else %}Our driver will{% endif "
        "%} pick up your items on {{ booking.pickup_date }}, {{ booking.time_window }}.\n\n"
        "Booking: {{ booking.number }}\nService: {{ booking.service }}\nPickup: {{ "
        "booking.pickup_date }}, {{ booking.time_window }}\nFrom: {{ booking.pickup_address }}\n"
        "To: {{ booking.delivery_address }}\nTotal: {{ booking.total }}\n\n\nQuestions? Reply to "
        "this email or write to {{ company.support_email }}.\n— The {{ company.name }} team\n"
    ),
    (
        "<!doctype html><html><body "
        'style="font-family:Helvetica,Arial,sans-serif;color:#111;max-width:560px;margin:0 '
        'auto;padding:24px"><h1 style="font-size:20px;margin:0 0 24px">{{ company.name }}</h1><p '
        'style="margin:0 0 16px">Hello{% if recipient.first_name %} {{ recipient.first_name }}{% '
        'endif %},</p><p style="margin:0 0 16px">{% if delivery.driver_name %}{{ '
        "delivery.driver_name }} will{% else %}Our driver will{% endif %} pick up your items on {{ "
        "booking.pickup_date }}, {{ booking.time_window }}.</p><table "
        'style="border-collapse:collapse;margin:0 0 16px"><tr><td style="padding:4px 16px 4px '
        '0;color:#666">Booking</td><td style="padding:4px 0">{{ booking.number }}</td></tr><tr><td '
        'style="padding:4px 16px 4px 0;color:#666">Service</td><td style="padding:4px 0">{{ '
        'booking.service }}</td></tr><tr><td style="padding:4px 16px 4px '
        '0;color:#666">Pickup</td><td style="padding:4px 0">{{ booking.pickup_date }}, {{ '
        'booking.time_window }}</td></tr><tr><td style="padding:4px 16px 4px '
        '0;color:#666">From</td><td style="padding:4px 0">{{ booking.pickup_address '
        '}}</td></tr><tr><td style="padding:4px 16px 4px 0;color:#666">To</td><td '
        'style="padding:4px 0">{{ booking.delivery_address }}</td></tr><tr><td style="padding:4px '
        '16px 4px 0;color:#666">Total</td><td style="padding:4px 0"><strong>{{ booking.total '
        '}}</strong></td></tr></table><p style="margin:0 0 16px"><a href="{{ booking.url }}" '
        'style="background:#111;color:#fff;padding:10px '
        '18px;text-decoration:none;border-radius:4px">View your booking</a></p><p '
        'style="margin:24px 0 0;color:#666;font-size:13px">Questions? Reply to this email or write '
        "to {{ company.support_email }}.</p></body></html>"
    ),
)


def upgrade() -> None:
    bind = op.get_bind()
    existing = {
        row.key: row
        for row in bind.execute(
            sa.select(
                templates.c.key,
                templates.c.variables,
                templates.c.subject,
                templates.c.text_body,
                templates.c.html_body,
            ).where(templates.c.key.in_(DELIVERY_KEYS))
        )
    }
    now = dt.datetime.now(dt.UTC)
    rows = []
    for default in DEFAULTS:
        if default.key not in DELIVERY_KEYS:
            continue
        row = existing.get(default.key)
        if row is None:
            rows.append(
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
            )
            continue
        changes: dict[str, object] = {}
        declared = dict(row.variables or {})
        if any(declared.get(name) != text for name, text in default.variables.items()):
            changes["variables"] = {**declared, **default.variables}
        as_seeded = (row.subject, row.text_body, row.html_body) == ASSIGNED_1_0
        if default.key == "delivery_assigned" and as_seeded:
            changes.update(
                description=default.description,
                subject=default.subject,
                text_body=default.text_body,
                html_body=default.html_body,
                version=templates.c.version + 1,  # a console form opened before is stale
                updated_at=now,
            )
        if changes:
            bind.execute(
                sa.update(templates).where(templates.c.key == default.key).values(**changes)
            )
    if rows:
        op.bulk_insert(templates, rows)


def downgrade() -> None:
    # The templates stay as they are: staff may have edited them since, and an unused template
    # or variable harms nothing (upgrading again changes nothing).
    pass
