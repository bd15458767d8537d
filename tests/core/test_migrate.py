"""Migrations: core and plugin branches, install records, seed once, refusing a stale schema."""

from __future__ import annotations

import dataclasses
import shutil
import textwrap

import pytest
import sqlalchemy as sa
import totetaxi_example
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from totetaxi_core import make_app
from totetaxi_core.db import make_engine, metadata
from totetaxi_core.errors import SchemaBehindError
from totetaxi_core.migrate import migrate, package_path
from totetaxi_core.platform import prepare
from totetaxi_core.testing import base_settings

# Every test here depends on the database: run on SQLite and PostgreSQL.
pytestmark = pytest.mark.both_databases


@pytest.fixture
def empty_db(backend):
    url = backend.empty_url()
    yield url
    backend.drop(url)


def _platform(url, **overrides):
    return prepare(base_settings(url, **overrides), environ={})


def _migrate(url, **overrides):
    platform = _platform(url, **overrides)
    engine = make_engine(platform.settings)
    try:
        return migrate(platform, engine)
    finally:
        engine.dispose()


def _scalar(url, sql):
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(sql)).all()
    finally:
        engine.dispose()


def test_app_refuses_an_unmigrated_database_and_names_the_command(empty_db):
    with pytest.raises(SchemaBehindError) as caught:
        make_app(_platform(empty_db))
    message = str(caught.value)
    assert "'core' is behind" in message
    assert "run `totetaxi migrate testing.ini`" in message


def test_migrate_installs_seeds_once_and_is_idempotent(empty_db):
    report = _migrate(empty_db)
    assert "installed core 1.0.0" in report
    assert "installed example 1.0.0" in report
    assert "loaded seed data of example" in report
    assert "installed example_glue 1.0.0" in report
    rows = dict(_scalar(empty_db, "SELECT name, version FROM installed_plugins"))
    assert rows == {"core": "1.0.0", "example": "1.0.0", "example_glue": "1.0.0"}

    again = _migrate(empty_db)
    assert [line for line in again if line.startswith(("installed", "loaded"))] == []
    assert _scalar(empty_db, "SELECT count(*) FROM example_notes") == [(1,)]
    app = make_app(_platform(empty_db))  # serves now
    app.registry["dbengine"].dispose()


# SQLite cannot reflect an expression index, so Alembic skips the models' trigram indexes
# there (they exist on PostgreSQL only, where they are compared).
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based")
def test_migrations_match_the_models(db_url):
    # The test databases hold every plugin the suite installs; every model must match.
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
    finally:
        engine.dispose()
    assert diff == []


def test_a_changed_plugin_version_is_refused_until_migrated(db_url, monkeypatch):
    bumped = dataclasses.replace(totetaxi_example.manifest, version="1.1.0")
    monkeypatch.setattr(totetaxi_example, "manifest", bumped)
    expected = r"'example' is installed at version 1\.0\.0 but the code is 1\.1\.0"
    with pytest.raises(SchemaBehindError, match=expected):
        make_app(_platform(db_url))
    assert "upgraded example 1.0.0 -> 1.1.0" in _migrate(db_url)
    make_app(_platform(db_url)).registry["dbengine"].dispose()
    versions = dict(_scalar(db_url, "SELECT name, version FROM installed_plugins"))
    assert versions["example"] == "1.1.0"


NEW_REVISION = '''
"""example: extra table"""
import sqlalchemy as sa
from alembic import op

revision = "e0002"
down_revision = "e0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table("example_extra", sa.Column("id", sa.Integer(), primary_key=True))


def downgrade():
    op.drop_table("example_extra")
'''


def test_a_plugin_schema_behind_its_code_is_refused_until_migrated(db_url, monkeypatch, tmp_path):
    versions = tmp_path / "versions"
    shutil.copytree(package_path(totetaxi_example.manifest.migrations), versions)
    (versions / "e0002_extra.py").write_text(textwrap.dedent(NEW_REVISION))
    moved = dataclasses.replace(totetaxi_example.manifest, migrations=str(versions))
    monkeypatch.setattr(totetaxi_example, "manifest", moved)

    with pytest.raises(SchemaBehindError) as caught:
        make_app(_platform(db_url))
    assert "'example' is behind its code (needs revision e0002)" in str(caught.value)
    assert "'core'" not in str(caught.value)

    _migrate(db_url)
    assert _scalar(db_url, "SELECT count(*) FROM example_extra") == [(0,)]
    make_app(_platform(db_url)).registry["dbengine"].dispose()


def test_disabling_a_plugin_keeps_its_tables_and_migrate_still_works(db_url):
    report = _migrate(db_url, **{"totetaxi.plugins": ""})
    assert report == ["schema at head for: core"]
    app = make_app(_platform(db_url, **{"totetaxi.plugins": ""}))
    app.registry["dbengine"].dispose()
    assert _scalar(db_url, "SELECT count(*) FROM example_notes") == [(1,)]


def test_an_uninstalled_plugin_distribution_is_named_not_a_traceback(db_url, monkeypatch):
    import importlib.metadata

    real = importlib.metadata.entry_points(group="totetaxi.plugins")
    without = [ep for ep in real if ep.value.split(".")[0] != "totetaxi_example"]
    settings = base_settings(db_url, **{"totetaxi.plugins": ""})
    platform = prepare(settings, environ={}, entry_points=without)
    with pytest.raises(SchemaBehindError) as caught:
        make_app(platform)
    message = str(caught.value)
    assert "revision e0001" in message
    assert "plugin 'example', 'example_glue' is installed in this database" in message
    engine = make_engine(platform.settings)
    with pytest.raises(SchemaBehindError, match="reinstall the distribution"):
        migrate(platform, engine)
    engine.dispose()


@pytest.mark.postgresql
def test_booking_numbers_go_on_from_the_counter_into_the_sequence_and_back(pg_backend):
    from alembic import command

    from totetaxi_core.migrate import alembic_config

    url = pg_backend.empty_url()
    platform = _platform(url)
    engine = make_engine(platform.settings)
    config = alembic_config(platform, engine)
    counter = "SELECT value FROM booking_counters WHERE name = 'booking'"
    try:
        command.upgrade(config, "c0008")
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE booking_counters SET value = 41 WHERE name = 'booking'"))
        command.upgrade(config, "c0009")
        with engine.begin() as conn:
            assert conn.execute(sa.text("SELECT nextval('booking_numbers')")).scalar() == 42
        command.downgrade(config, "c0008")
        with engine.begin() as conn:
            assert conn.execute(sa.text(counter)).scalar() == 41  # no booking holds 42
    finally:
        engine.dispose()
        pg_backend.drop(url)
