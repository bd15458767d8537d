"""The deployment recipes in deploy/ stay runnable: every command they start exists in this
installation, the files parse, and the promises they make (drain times, a non-root image, no
secret baked in, the live process left off until it exists) hold. Cheap: nothing is started."""

from __future__ import annotations

import configparser
import shlex
import sys
from pathlib import Path

import pytest
import yaml
from supervisor.options import ServerOptions

from totetaxi_core.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
BIN = Path(sys.executable).parent
APP_PROGRAMS = {"web", "worker", "beat"}


def totetaxi_commands() -> set[str]:
    """The sub-commands `totetaxi` has in this installation."""
    parser = build_parser()
    [sub] = [a for a in parser._actions if a.dest == "command"]
    return set(sub.choices)


def check_command(argv: list[str]) -> None:
    """``argv`` runs a program installed here (pserve, totetaxi SUBCOMMAND) on a config."""
    program = Path(argv[0]).name
    assert program in {"pserve", "totetaxi"}, argv
    assert (BIN / program).exists(), argv
    if program == "totetaxi":
        assert argv[1] in totetaxi_commands(), argv
    assert argv[-1].endswith("production.ini") or any(a.endswith("production.ini") for a in argv)


def graceful_timeout() -> int:
    ini = configparser.ConfigParser(interpolation=None)
    ini.read(ROOT / "production.ini")
    return int(ini["server:main"]["graceful_timeout"])


def test_supervisord_runs_the_topology_and_drains_it(tmp_path, monkeypatch):
    for name, value in {
        "TOTETAXI_BIN": str(BIN),
        "TOTETAXI_CONFIG": str(ROOT / "production.ini"),
        "TOTETAXI_RUN": str(tmp_path),
        "TOTETAXI_WORKER_OPTIONS": "",
        "TOTETAXI_LIVE_PORT": "6544",
        # supervisord puts its `environment` into this process's: undone after the test.
        "TOTETAXI_METRICS_DIR": "",
    }.items():
        monkeypatch.setenv(name, value)
    options = ServerOptions()
    options.realize(["-c", str(DEPLOY / "supervisord.conf")])
    programs = {p.name: p for g in options.process_group_configs for p in g.process_configs}
    assert set(programs) == APP_PROGRAMS | {"live"}
    # Every program writes its metrics into the one folder of this run (multiprocess mode).
    assert options.environ_expansions["ENV_TOTETAXI_METRICS_DIR"] == f"{tmp_path}/metrics"
    for name, program in programs.items():
        argv = shlex.split(program.command)
        if name == "live":
            assert program.autostart and argv[1] == "live"
            continue
        check_command(argv)
        assert program.autostart and program.autorestart
        assert program.killasgroup
    # TERM drains: supervisord waits longer than gunicorn gives its workers.
    assert programs["web"].stopwaitsecs > graceful_timeout()
    assert programs["worker"].stopwaitsecs >= 60


def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def test_compose_has_every_tier_and_takes_secrets_from_the_environment():
    services = compose()["services"]
    assert {"db", "redis", "migrate", "web", "worker", "beat", "live"} <= set(services)
    for name in ("migrate", "web", "worker", "beat", "live"):
        check_command(services[name]["command"])
    assert "profiles" not in services["live"]  # started with the others
    for name in ("web", "worker", "beat"):
        assert services[name]["depends_on"]["migrate"]["condition"] == (
            "service_completed_successfully"
        )
    environment = services["web"]["environment"]
    # Required secrets are `${VAR:?...}`: compose refuses to start without them.
    for key in ("TOTETAXI_SECRET", "TOTETAXI_PAYMENTS_STRIPE__WEBHOOK_SECRET"):
        assert environment[key].startswith("${" + key + ":?")
    assert services["web"]["ports"] == ["127.0.0.1:6543:6543"]


def test_the_image_is_multi_stage_unprivileged_and_holds_no_secret():
    lines = [
        line.strip()
        for line in (DEPLOY / "Dockerfile").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert sum(line.startswith("FROM ") for line in lines) == 2
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1].split(":")[0] not in {"root", "0"}
    assert not any("TOTETAXI_SECRET" in line or "SECRET_KEY" in line for line in lines)
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", "var", ".git"} <= set(ignored)


@pytest.mark.parametrize("unit", sorted((DEPLOY / "systemd").glob("*.service")), ids=str)
def test_systemd_units_start_an_installed_command(unit):
    service = configparser.ConfigParser(interpolation=None, strict=False)
    service.read(unit)
    argv = shlex.split(service["Service"]["ExecStart"])
    check_command([Path(argv[0]).name, *argv[1:]])
    assert service["Service"]["User"] == "totetaxi"
    assert service["Service"]["EnvironmentFile"].startswith("/etc/totetaxi/")


def test_the_backup_check_is_an_executable_bash_script():
    import os
    import subprocess

    script = DEPLOY / "backup_restore_check.sh"
    assert os.access(script, os.X_OK)
    subprocess.run(["bash", "-n", str(script)], check=True)


def _package_data(setup_cfg: Path) -> dict[str, list[str]]:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(setup_cfg)
    if not parser.has_section("options.package_data"):
        return {}
    return {
        package: [p.strip() for p in patterns.replace("\n", ",").split(",") if p.strip()]
        for package, patterns in parser["options.package_data"].items()
    }


@pytest.mark.parametrize(
    "setup_cfg", [ROOT / "setup.cfg", *sorted(ROOT.glob("plugins/*/setup.cfg"))], ids=str
)
def test_every_data_folder_is_in_the_distribution(setup_cfg):
    """A folder without __init__.py (templates, static files, migration versions) is data to
    setuptools: unless package_data names it, a wheel — the container image — leaves it out
    (the image's `totetaxi migrate` once failed with KeyError 'c0009' for that)."""
    import fnmatch

    base = setup_cfg.parent
    named = _package_data(setup_cfg)
    missing = []
    for top in sorted(p for p in base.glob("totetaxi_*") if (p / "__init__.py").exists()):
        patterns = named.get(top.name, [])
        for path in top.rglob("*"):
            if not path.is_file() or "__pycache__" in path.parts:
                continue
            if (path.parent / "__init__.py").exists():
                continue  # a package's own file (modules; its data by the * patterns)
            relative = path.relative_to(top).as_posix()
            if relative.startswith("scaffold/templates/"):
                continue  # the core names these under totetaxi_core.scaffold
            if not any(fnmatch.fnmatch(relative, pattern) for pattern in patterns):
                missing.append(f"{top.name}/{relative}")
    assert not missing, f"not in {setup_cfg.relative_to(ROOT)}'s package_data: {missing[:5]}"
