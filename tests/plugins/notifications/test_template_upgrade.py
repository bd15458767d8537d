"""Templates added after the first release reach databases installed before them.

The plugin's seed runs once, at install: revision n0003 adds the booking change templates
(``defaults.BOOKING_CHANGE_KEYS``) where they are missing, and n0004 the delivery ones
(``defaults.DELIVERY_KEYS``: ``delivery_rescheduled`` is new), declares the delivery variables
added since on those there already, and replaces ``delivery_assigned``'s 1.0 text (a pickup only)
where it is still word for word 1.0's; n0005 adds the customer-care templates
(``defaults.CARE_KEYS``). None ever touches a template staff edited. Each test starts from the
suite's migrated database and turns it back into one installed at 1.0.0 (revision n0002, without
the new templates, with 1.0's delivery templates), 1.1.0 (n0003) or 1.2.0 (n0004), then runs
``totetaxi migrate`` as an operator would.
"""

from __future__ import annotations

import hashlib
import importlib
import json
from typing import Any

import pytest
import sqlalchemy as sa
from totetaxi_notifications import defaults, manifest

from totetaxi_core import make_app
from totetaxi_core.db import make_engine
from totetaxi_core.errors import SchemaBehindError
from totetaxi_core.migrate import migrate
from totetaxi_core.platform import prepare
from totetaxi_core.testing import base_settings, migrated_plugins

pytestmark = pytest.mark.both_databases

#: The version the upgrade reports reaching: the plugin's own.
CURRENT = manifest.version
HEAD = "n0005"
EDITED = "Edited before the upgrade {{ booking.number }}"
N0004 = importlib.import_module(
    "totetaxi_notifications.migrations.versions.n0004_delivery_templates"
)
#: The delivery variables 1.0 declared (``delivery.kind`` and ``delivery.window`` came in 1.2).
DELIVERY_VARIABLES_1_0 = {
    "delivery.status": "assigned, picked_up, delivered or failed",
    "delivery.driver_name": "the driver's first name (may be empty)",
    "delivery.eta": "the expected arrival (may be empty)",
}
#: SHA-256 of 1.0's ``delivery_assigned`` (subject, text and HTML bodies joined by NUL), taken
#: from ``defaults.py`` before 1.2: the migration's copy must be that text, byte for byte.
ASSIGNED_1_0_SHA256 = "d5ba7a2b1bf5f69599e0ae70647ed4e07e877d5f084c6b2a0877662a2888eb07"


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


def _variables_1_0(key: str) -> dict[str, str]:
    """The variables a delivery template declared in 1.0."""
    declared = {k: v for k, v in _default(key).variables.items() if not k.startswith("delivery.")}
    return {**declared, **DELIVERY_VARIABLES_1_0}


def _as_installed_at(url: str, version: str, keep: tuple[str, ...] = ()) -> None:
    """Make the database one where notifications ``version`` (1.0.0: schema at n0002, 1.1.0:
    n0003, 1.2.0: n0004) was installed: without the templates that came later (but those in
    ``keep``, which staff edited), the delivery templates as 1.0 seeded them (those in ``keep``
    edited)."""
    revision, later = {
        "1.0.0": ("n0002", (*defaults.BOOKING_CHANGE_KEYS, "delivery_rescheduled")),
        "1.1.0": ("n0003", ("delivery_rescheduled",)),
        "1.2.0": ("n0004", ()),
    }[version]
    later = (*later, *defaults.CARE_KEYS)
    gone = [key for key in later if key not in keep]
    statements = [
        sa.text(
            "UPDATE alembic_version SET version_num = :old WHERE version_num = :head"
        ).bindparams(old=revision, head=HEAD),
        sa.text(
            "UPDATE installed_plugins SET version = :version WHERE name = 'notifications'"
        ).bindparams(version=version),
        sa.text("DELETE FROM notifications_templates WHERE key IN :keys").bindparams(
            sa.bindparam("keys", gone, expanding=True, type_=sa.String())
        ),
    ]
    templates = N0004.templates
    for key in defaults.DELIVERY_KEYS if version != "1.2.0" else ():
        if key in gone:
            continue
        values: dict[str, Any] = {"variables": _variables_1_0(key)}
        if key == "delivery_assigned":
            subject, text_body, html_body = N0004.ASSIGNED_1_0
            values.update(subject=subject, text_body=text_body, html_body=html_body)
        statements.append(sa.update(templates).where(templates.c.key == key).values(**values))
    statements.append(
        sa.text(
            "UPDATE notifications_templates SET subject = :subject WHERE key IN :keys"
        ).bindparams(
            sa.bindparam("subject", EDITED),
            sa.bindparam("keys", list(keep), expanding=True, type_=sa.String()),
        )
    )
    _execute(url, *statements)


def _migrate(url: str) -> list[str]:
    platform = _platform(url)
    engine = make_engine(platform.settings)
    try:
        return migrate(platform, engine)
    finally:
        engine.dispose()


def _default(key: str) -> defaults.Default:
    return next(d for d in defaults.DEFAULTS if d.key == key)


def _as_seeded(key: str, version: int = 1) -> tuple[Any, ...]:
    default = _default(key)
    return (
        default.name,
        default.subject,
        default.text_body,
        default.html_body,
        default.variables,
        version,
    )


def test_the_migrations_copy_of_the_1_0_assigned_text_is_1_0s():
    joined = "\0".join(N0004.ASSIGNED_1_0).encode()
    assert hashlib.sha256(joined).hexdigest() == ASSIGNED_1_0_SHA256
    # And 1.2's is another: the drop-off's assignment reads differently.
    assert "delivery.kind" in _default("delivery_assigned").text_body
    assert "delivery.kind" not in N0004.ASSIGNED_1_0[1]


def test_a_database_installed_before_the_new_templates_gets_them_at_migrate(db_url):
    _as_installed_at(db_url, "1.0.0")
    added = set(defaults.BOOKING_CHANGE_KEYS) | {"delivery_rescheduled"} | set(defaults.CARE_KEYS)
    assert set(_templates(db_url)) == set(defaults.KEYS) - added
    # The app refuses to serve it, naming the command (their emails would fail: no template).
    with pytest.raises(SchemaBehindError, match=r"'notifications' is behind its code"):
        make_app(_platform(db_url))

    report = _migrate(db_url)
    assert f"upgraded notifications 1.0.0 -> {CURRENT}" in report
    found = _templates(db_url)
    assert set(found) == set(defaults.KEYS)
    for key in added:
        assert found[key] == _as_seeded(key), key
    # 1.0's assigned text (left as it was) is 1.2's now: a new version for the editor.
    assert found["delivery_assigned"] == _as_seeded("delivery_assigned", version=2)
    # The other delivery templates keep their text and may use the new variables.
    for key in ("delivery_picked_up", "delivery_delivered", "delivery_failed"):
        assert found[key] == _as_seeded(key), key
    make_app(_platform(db_url)).registry["dbengine"].dispose()  # serves now

    # Migrating again adds nothing.
    assert _migrate(db_url) == [r for r in report if r.startswith("schema at head")]
    assert _templates(db_url) == found


@pytest.mark.parametrize("version", ["1.0.0", "1.1.0"])
def test_the_upgrade_never_overwrites_a_template_staff_edited(db_url, version):
    edited = ("booking_completed", "delivery_assigned", "delivery_failed")
    _as_installed_at(db_url, version, keep=edited)
    before = _templates(db_url)
    report = _migrate(db_url)
    assert f"upgraded notifications {version} -> {CURRENT}" in report
    after = _templates(db_url)
    assert set(after) == set(defaults.KEYS)
    for key in edited:
        assert after[key][1] == EDITED
        if key.startswith("delivery_"):
            # Their text as staff left it; the delivery variables of 1.2 declared.
            assert after[key][:4] == before[key][:4]
            assert after[key][4] == _default(key).variables
            assert after[key][5] == before[key][5]
        else:
            assert after[key] == before[key]
    assert after["delivery_rescheduled"] == _as_seeded("delivery_rescheduled")
    # The templates that were there already, but the delivery ones (their variables), are as
    # they were.
    assert {k: after[k] for k in before if k not in defaults.DELIVERY_KEYS} == {
        k: v for k, v in before.items() if k not in defaults.DELIVERY_KEYS
    }


def test_a_database_at_1_1_gets_the_delivery_templates(db_url):
    _as_installed_at(db_url, "1.1.0")
    assert "delivery_rescheduled" not in _templates(db_url)
    assert f"upgraded notifications 1.1.0 -> {CURRENT}" in _migrate(db_url)
    found = _templates(db_url)
    assert found["delivery_rescheduled"] == _as_seeded("delivery_rescheduled")
    assert found["delivery_assigned"] == _as_seeded("delivery_assigned", version=2)
    for key in defaults.BOOKING_CHANGE_KEYS:
        assert found[key] == _as_seeded(key), key


def test_a_database_at_1_2_gets_the_care_templates(db_url):
    _as_installed_at(db_url, "1.2.0", keep=("care_message",))
    before = _templates(db_url)
    assert set(before) == set(defaults.KEYS) - set(defaults.CARE_KEYS) | {"care_message"}
    assert f"upgraded notifications 1.2.0 -> {CURRENT}" in _migrate(db_url)
    found = _templates(db_url)
    assert set(found) == set(defaults.KEYS)
    assert found["care_message"] == before["care_message"]  # staff's edit kept
    for key in set(defaults.CARE_KEYS) - {"care_message"}:
        assert found[key] == _as_seeded(key), key
    assert {k: found[k] for k in before} == before
