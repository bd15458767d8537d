"""``sqlalchemy.url`` as users write it: a plain ``postgresql://`` works with the driver the core
installs (psycopg2), and a URL no installed driver can serve stops start-up with one sentence
naming the setting."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from totetaxi_core import make_app
from totetaxi_core.db import make_engine
from totetaxi_core.db import session as db_session
from totetaxi_core.errors import SettingsError, StartupError
from totetaxi_core.platform import prepare
from totetaxi_core.testing import base_settings, register_customer

SETTING = "Setting 'sqlalchemy.url' (TOTETAXI_DATABASE_URL)"


def plain(url: str) -> str:
    """``postgresql+psycopg2://...`` → ``postgresql://...``."""
    return sa.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.mark.postgresql
def test_an_app_on_a_plain_postgresql_url_serves(pg_backend):
    url = pg_backend.new_url()
    assert sa.make_url(url).drivername == "postgresql+psycopg2"  # the kit's own URLs
    app = make_app(prepare(base_settings(plain(url)), environ={}))
    try:
        engine = app.registry["dbengine"]
        assert (engine.dialect.name, engine.dialect.driver) == ("postgresql", "psycopg2")
        from webtest import TestApp

        client = TestApp(app, extra_environ={"REMOTE_ADDR": "127.0.0.1"})
        assert client.get("/readyz").json["status"] == "ok"
        assert register_customer(client)["email"]  # a real write, committed
    finally:
        app.registry["dbengine"].dispose()
        pg_backend.drop(url)


def test_a_plain_postgresql_url_is_left_to_psycopg3_when_it_is_installed(monkeypatch):
    monkeypatch.setattr(db_session, "find_spec", lambda name: object())
    assert db_session.database_url("postgresql://h/db").drivername == "postgresql"


@pytest.mark.parametrize("driver", ["postgresql+psycopg2", "postgresql+psycopg", "sqlite"])
def test_an_explicit_driver_is_kept(driver):
    assert db_session.database_url(f"{driver}://h/db").drivername == driver


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mysql://ops:s3cret@db/tt", f"{SETTING} needs the driver of 'mysql', which is not "),
        ("postgresql+asyncpg://db/tt", f"{SETTING} needs the driver of 'postgresql+asyncpg'"),
        ("nosuchdb://db/tt", f"{SETTING} names a database SQLAlchemy does not know ('nosuchdb')"),
        ("db.internal/totetaxi", f"{SETTING} is not a database URL"),
    ],
)
def test_an_unusable_url_stops_start_up_naming_the_setting(url, expected):
    with pytest.raises(SettingsError) as refused:
        make_app(prepare(base_settings(url), environ={}))
    assert isinstance(refused.value, StartupError)  # the CLI prints it as a sentence
    [problem] = refused.value.problems
    assert problem.startswith(expected)
    assert "sqlite:///" in problem and "postgresql://" in problem
    assert "s3cret" not in problem  # a URL may hold a password: never quoted


def test_make_engine_takes_the_setting_as_ops_write_it(tmp_path):
    engine = make_engine({"sqlalchemy.url": f"sqlite:///{tmp_path / 'x.sqlite'}"})
    try:
        with engine.connect() as connection:
            assert connection.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1
    finally:
        engine.dispose()


@pytest.mark.parametrize("written, expected", [("false", False), ("true", True), ("0", False)])
def test_pool_options_written_in_an_ini_file_mean_what_they_say(written, expected):
    # psycopg2's dialect does not coerce these: the string "false" once meant pre-ping on.
    engine = make_engine(
        {
            "sqlalchemy.url": "postgresql+psycopg2://postgres@127.0.0.1:9/none",
            "sqlalchemy.pool_pre_ping": written,
            "sqlalchemy.pool_size": "3",
        }
    )
    assert engine.pool._pre_ping is expected
    assert engine.pool.size() == 3


def test_a_pool_size_that_is_no_number_names_the_setting():
    with pytest.raises(SettingsError, match=r"'sqlalchemy.pool_size' must be a number"):
        make_engine({"sqlalchemy.url": "sqlite://", "sqlalchemy.pool_size": "lots"})
