"""Templates added after the first release reach databases installed before them.

The plugin's seed runs once, at install: revision n0003 adds the booking change templates
(``defaults.BOOKING_CHANGE_KEYS``) where they are missing, and never touches one staff edited.
Each test starts from the suite's migrated database and turns it back into one installed at
1.0.0 (revision n0002, without the new templates), then runs ``totetaxi migrate`` as an operator
would.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa
from totetaxi_notifications import defaults

from totetaxi_core import make_app
from totetaxi_core.db import make_engine
from totetaxi_core.errors import SchemaBehindError
from totetaxi_core.migrate import migrate
from totetaxi_core.platform import prepare
from totetaxi_core.testing import base_settings, migrated_plugins

pytestmark = pytest.mark.both_databases

EDITED = "Edited before the upgrade {{ booking.number }}"


def _platform(url: str) -> Any:
    return prepare(
        base_settings(url, **{"totetaxi.plugins": " ".join(migrated_plugins())}), environ={}
    )


def _execute(url: str, *statements: Any) -> list[Any]:
    """Run ``statements`` in one transaction; the rows of the last one."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            rows: list[Any] = []
            for statement in statements:
                result = connection.execute(statement)
                rows = list(result) if result.returns_rows else []
            return rows
    finally:
        engine.dispose()


def _templates(url: str) -> dict[str, tuple[Any, ...]]:
    rows = _execute(
        url,
        sa.text(
            "SELECT key, name, subject, text_body, html_body, variables, version "
            "FROM notifications_templates"
        ),
    )
    # A JSON column read as text: PostgreSQL's driver decodes it, SQLite's gives the string.
    return {
        row[0]: (*row[1:5], json.loads(row[5]) if isinstance(row[5], str) else row[5], row[6])
        for row in rows
    }


def _as_installed_at_1_0(url: str, keep: tuple[str, ...] = ()) -> None:
    """Make the database one where notifications 1.0.0 was installed: schema at n0002, none of
    the new templates (but those in ``keep``, which staff edited)."""
    gone = [key for key in defaults.BOOKING_CHANGE_KEYS if key not in keep]
    _execute(
        url,
        sa.text("UPDATE alembic_version SET version_num = 'n0002' WHERE version_num = 'n0003'"),
        sa.text("UPDATE installed_plugins SET version = '1.0.0' WHERE name = 'notifications'"),
        sa.text("DELETE FROM notifications_templates WHERE key IN :keys").bindparams(
            sa.bindparam("keys", gone, expanding=True, type_=sa.String())
        ),
        sa.text(
            "UPDATE notifications_templates SET subject = :subject WHERE key IN :keys"
        ).bindparams(
            sa.bindparam("subject", EDITED),
            sa.bindparam("keys", list(keep), expanding=True, type_=sa.String()),
        ),
    )


def _migrate(url: str) -> list[str]:
    platform = _platform(url)
    engine = make_engine(platform.settings)
    try:
        return migrate(platform, engine)
    finally:
        engine.dispose()


def _default(key: str) -> defaults.Default:
    return next(d for d in defaults.DEFAULTS if d.key == key)


def test_a_database_installed_before_the_new_templates_gets_them_at_migrate(db_url):
    _as_installed_at_1_0(db_url)
    assert set(_templates(db_url)) == set(defaults.KEYS) - set(defaults.BOOKING_CHANGE_KEYS)
    # The app refuses to serve it, naming the command (their emails would fail: no template).
    with pytest.raises(SchemaBehindError, match=r"'notifications' is behind its code"):
        make_app(_platform(db_url))

    report = _migrate(db_url)
    assert "upgraded notifications 1.0.0 -> 1.1.0" in report
    found = _templates(db_url)
    assert set(found) == set(defaults.KEYS)
    for key in defaults.BOOKING_CHANGE_KEYS:
        default = _default(key)
        assert found[key] == (
            default.name,
            default.subject,
            default.text_body,
            default.html_body,
            default.variables,
            1,
        )
    make_app(_platform(db_url)).registry["dbengine"].dispose()  # serves now

    # Migrating again adds nothing.
    assert _migrate(db_url) == [r for r in report if r.startswith("schema at head")]
    assert _templates(db_url) == found


def test_the_upgrade_never_overwrites_a_template_staff_edited(db_url):
    _as_installed_at_1_0(db_url, keep=("booking_completed",))
    before = _templates(db_url)
    _migrate(db_url)
    after = _templates(db_url)
    assert set(after) == set(defaults.KEYS)
    assert after["booking_completed"] == before["booking_completed"]
    assert after["booking_completed"][1] == EDITED
    # The templates that were there already are as they were.
    assert {key: after[key] for key in before} == before
