"""The `totetaxi` command as ops run it: a real process, a real .ini file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run(
    *args: str, env: dict[str, str] | None = None, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("TOTETAXI_")}
    base.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "totetaxi_core.cli", *args],
        capture_output=True,
        text=True,
        env=base,
        timeout=120,
        cwd=ROOT,
        input=stdin,
    )


@pytest.fixture
def ini(tmp_path: Path) -> Path:
    path = tmp_path / "site.ini"
    path.write_text(
        "[app:main]\nuse = egg:totetaxi-core\n"
        f"sqlalchemy.url = sqlite:///{tmp_path / 'site.sqlite'}\n"
        "totetaxi.plugins = example\n"
    )
    return path


def test_migrate_then_plugins_list_shows_installed_versions(ini):
    migrated = run("migrate", str(ini))
    assert migrated.returncode == 0, migrated.stderr
    assert "installed example 1.0.0" in migrated.stdout

    listed = run("plugins", "list", str(ini))
    assert listed.returncode == 0, listed.stderr
    header, *rows = listed.stdout.strip().splitlines()
    assert header.split() == [
        "NAME",
        "VERSION",
        "DEPENDS",
        "PROVIDES",
        "ENABLED",
        "INSTALLED",
        "DISTRIBUTION",
    ]
    table = {row.split()[0]: row.split() for row in rows if row.strip()}
    assert table["example"][:6] == ["example", "1.0.0", "-", "example_slot", "yes", "1.0.0"]
    assert table["example_glue"][:6] == ["example_glue", "1.0.0", "example", "-", "yes", "1.0.0"]


def test_plugins_list_marks_disabled_plugins(ini):
    run("migrate", str(ini))
    listed = run("plugins", "list", str(ini), env={"TOTETAXI_PLUGINS_DISABLED": "example_glue"})
    row = next(line for line in listed.stdout.splitlines() if line.startswith("example_glue"))
    assert row.split()[4] == "disabled"


def test_plugins_list_of_development_ini_shows_the_installed_example(tmp_path):
    listed = run(
        "plugins",
        "list",
        "development.ini",
        env={"TOTETAXI_DATABASE_URL": f"sqlite:///{tmp_path / 'dev.sqlite'}"},
    )
    assert listed.returncode == 0, listed.stderr
    row = next(line for line in listed.stdout.splitlines() if line.startswith("example "))
    assert row.split()[4] == "no"


def test_plugins_show(ini):
    shown = run("plugins", "show", "example", str(ini))
    assert shown.returncode == 0, shown.stderr
    assert "distribution:  totetaxi-example 1.0.0" in shown.stdout
    assert "example.max_notes (int, default 100, env TOTETAXI_EXAMPLE__MAX_NOTES)" in shown.stdout
    missing = run("plugins", "show", "nope", str(ini))
    assert missing.returncode == 1
    assert "No plugin named 'nope' is installed" in missing.stderr


def test_startup_errors_are_sentences_not_tracebacks(ini):
    result = run("migrate", str(ini), env={"TOTETAXI_PLUGINS": "example nonexistent"})
    assert result.returncode == 2
    assert "totetaxi cannot start:" in result.stderr
    assert "Unknown plugin 'nonexistent'" in result.stderr
    assert "totetaxi-example 1.0.0" in result.stderr
    assert "Traceback" not in result.stderr

    bad = run("migrate", str(ini), env={"TOTETAXI_EXAMPLE__MAX_NOTES": "many"})
    assert bad.returncode == 2
    assert "Setting 'example.max_notes' must be a whole number" in bad.stderr


@pytest.mark.parametrize(
    ("url", "driver"),
    [
        ("mysql://ops:s3cret@db.internal/totetaxi", "mysql"),
        ("postgresql+asyncpg://db/tt", "asyncpg"),
    ],
)
def test_a_database_url_whose_driver_is_missing_is_one_sentence(ini, url, driver):
    result = run("migrate", str(ini), env={"TOTETAXI_DATABASE_URL": url})
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "s3cret" not in result.stderr
    assert result.stderr.splitlines()[0] == "totetaxi cannot start:"
    [problem] = result.stderr.splitlines()[1:]
    assert problem.startswith(
        "  - Setting 'sqlalchemy.url' (TOTETAXI_DATABASE_URL) needs the driver of "
    )
    assert driver in problem and "postgresql://" in problem


@pytest.mark.postgresql
def test_migrate_takes_a_plain_postgresql_url(ini, pg_backend):
    """``TOTETAXI_DATABASE_URL=postgresql://... make run`` migrates first: the URL as users write
    it, on a database with nothing in it."""
    import sqlalchemy as sa

    url = pg_backend.empty_url()
    plain = sa.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    assert plain.startswith("postgresql://")
    try:
        result = run("migrate", str(ini), env={"TOTETAXI_DATABASE_URL": plain})
        assert result.returncode == 0, result.stderr
        assert "example" in result.stdout
    finally:
        pg_backend.drop(url)


def test_the_cli_honours_environment_overrides(ini, tmp_path):
    elsewhere = f"sqlite:///{tmp_path / 'elsewhere.sqlite'}"
    assert run("migrate", str(ini), env={"TOTETAXI_DATABASE_URL": elsewhere}).returncode == 0
    assert not (tmp_path / "site.sqlite").exists()  # the .ini's database was never touched
    shown = run("plugins", "show", "example", str(ini), env={"TOTETAXI_DATABASE_URL": elsewhere})
    assert "installed:     1.0.0" in shown.stdout
    assert not (tmp_path / "site.sqlite").exists()


def test_production_ini_needs_a_database_url(tmp_path):
    strong = "Kq3!vB9#zL0@mN7$pR2%tY5^wE8&uI1*oP4("
    result = run("migrate", "production.ini", env={"TOTETAXI_SECRET": strong})
    assert result.returncode == 2
    assert "Setting 'sqlalchemy.url' is required" in result.stderr


def test_production_ini_refuses_to_start_without_a_strong_secret(tmp_path):
    env = {
        "TOTETAXI_DATABASE_URL": f"sqlite:///{tmp_path / 'p.sqlite'}",
        "TOTETAXI_BROKER_URL": "redis://127.0.0.1:1/0",
    }
    missing = run("migrate", "production.ini", env=env)
    assert missing.returncode == 2
    assert "'totetaxi.secret' is missing" in missing.stderr
    weak = run("migrate", "production.ini", env={**env, "TOTETAXI_SECRET": "changeme"})
    assert weak.returncode == 2
    assert "too weak" in weak.stderr


def test_staff_create_reads_the_password_from_standard_input(ini, tmp_path):
    import sqlalchemy as sa

    assert run("migrate", str(ini)).returncode == 0
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'site.sqlite'}")
    with engine.connect() as conn:  # no default account, ever
        assert conn.execute(sa.text("SELECT count(*) FROM staff_users")).scalar() == 0
    created = run(
        "staff",
        "create",
        str(ini),
        "--email",
        "Boss@TotETaxi.com",
        "--role",
        "admin",
        "--department",
        "Operations",
        "--hire-date",
        "2024-05-01",
        stdin="Correct-Horse-Battery-9\n",
    )
    assert created.returncode == 0, created.stderr
    assert created.stdout.startswith("created admin boss@totetaxi.com")
    with engine.connect() as conn:
        row = conn.execute(
            sa.text(
                "SELECT s.email, s.role, s.password_hash, p.department, p.hire_date "
                "FROM staff_users s JOIN staff_profiles p ON p.staff_id = s.id"
            )
        ).one()
        audit = conn.execute(sa.text("SELECT action, actor_kind FROM audit_records")).all()
    engine.dispose()
    assert row[0:2] == ("boss@totetaxi.com", "admin")
    assert row[2].startswith("$argon2id$")
    assert row[3] == "Operations" and str(row[4]).startswith("2024-05-01")
    assert audit == [("staff.created", "system")]

    weak = run(
        "staff",
        "create",
        str(ini),
        "--email",
        "b@totetaxi.com",
        "--role",
        "staff",
        stdin="hunter2\n",
    )
    assert weak.returncode == 1
    assert "Password too weak" in weak.stderr
    twice = run(
        "staff",
        "create",
        str(ini),
        "--email",
        "boss@totetaxi.com",
        "--role",
        "staff",
        stdin="Correct-Horse-Battery-9\n",
    )
    assert twice.returncode == 1 and "already exists" in twice.stderr
    bad_role = run("staff", "create", str(ini), "--email", "c@totetaxi.com", "--role", "owner")
    assert bad_role.returncode == 2 and "--role must be one of" in bad_role.stderr


def test_staff_set_password_ends_sessions_and_is_audited(ini, tmp_path):
    import sqlalchemy as sa

    run("migrate", str(ini))
    run(
        "staff",
        "create",
        str(ini),
        "--email",
        "ops@totetaxi.com",
        "--role",
        "staff",
        stdin="Correct-Horse-Battery-9\r\n",
    )  # a Windows line ending is not part of it
    changed = run(
        "staff",
        "set-password",
        str(ini),
        "--email",
        "OPS@totetaxi.com",
        stdin="Another-Long-Password-5\n",
    )
    assert changed.returncode == 0, changed.stderr
    assert "their sessions and tokens ended" in changed.stdout
    missing = run(
        "staff",
        "set-password",
        str(ini),
        "--email",
        "nobody@totetaxi.com",
        stdin="Another-Long-Password-5\n",
    )
    assert missing.returncode == 1 and "No staff user" in missing.stderr
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'site.sqlite'}")
    with engine.connect() as conn:
        actions = [
            r[0] for r in conn.execute(sa.text("SELECT action FROM audit_records ORDER BY at"))
        ]
        stored = conn.execute(sa.text("SELECT password_hash FROM staff_users")).scalar()
    engine.dispose()
    assert actions == ["staff.created", "staff.password_set"]
    from argon2 import PasswordHasher

    assert PasswordHasher().verify(stored, "Another-Long-Password-5")
