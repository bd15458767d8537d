"""The ``totetaxi`` command: migrations, plugins, workers, live updates and the outbox.

Every sub-command that runs the platform takes the path of an ``.ini`` file
(``development.ini``) and reads the same settings, with the same environment overrides, as the
web app. ``plugin new`` and ``revision`` write code; they need no configuration.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any

from pyramid.paster import get_appsettings, setup_logging
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError

from .db import make_engine
from .errors import StartupError
from .platform import Platform, disabled_from_environment, prepare
from .settings import CORE_SETTINGS, apply_environment

log = logging.getLogger("totetaxi.cli")


def _settings(config_uri: str) -> dict[str, Any]:
    """The .ini's settings with the core's environment overrides applied (as the app does)."""
    setup_logging(config_uri)
    settings = dict(get_appsettings(config_uri))
    settings.setdefault("totetaxi.config_file", config_uri)
    apply_environment(settings, CORE_SETTINGS)
    return settings


def _platform(config_uri: str) -> Platform:
    return prepare(_settings(config_uri))


def cmd_migrate(args: argparse.Namespace) -> int:
    from .migrate import migrate

    platform = _platform(args.config)
    engine = make_engine(platform.settings)
    for line in migrate(platform, engine):
        print(line)
    return 0


def _installed_versions(settings: dict[str, Any]) -> tuple[dict[str, str], str | None]:
    from .plugins.models import InstalledPlugin

    try:
        engine = make_engine(settings)
        with engine.connect() as connection:
            if not inspect(connection).has_table(InstalledPlugin.__tablename__):
                return {}, "database not migrated yet"
            rows = connection.execute(select(InstalledPlugin.name, InstalledPlugin.version))
            return dict(rows.all()), None
    except Exception as exc:
        return {}, f"database unreachable: {exc}"


def cmd_plugins_list(args: argparse.Namespace) -> int:
    settings = _settings(args.config)
    enabled: list[str] = []
    problem = None
    try:
        platform = prepare(settings)
        discovered, enabled = platform.discovered, platform.enabled_names
        settings = platform.settings
    except StartupError as exc:
        from .plugins import discover

        discovered, problem = discover(), str(exc)
    installed, db_note = _installed_versions(settings)
    disabled = set(disabled_from_environment(os.environ))
    from .plugins.listing import plugin_facts

    def joined(values: list[str] | None) -> str:
        return "?" if values is None else (",".join(values) or "-")

    rows = [("NAME", "VERSION", "DEPENDS", "PROVIDES", "ENABLED", "INSTALLED", "DISTRIBUTION")]
    for facts in plugin_facts(discovered, enabled, disabled, installed):
        rows.append(
            (
                facts["name"],
                facts["version"],
                joined(facts["depends"]),
                joined(facts["provides"]),
                facts["state"],
                facts["installed"] or "-",
                facts["distribution"],
            )
        )
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print(
            "  ".join(
                str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)
            ).rstrip()
        )
    for plugin in discovered:
        if not plugin.loaded:
            print(f"\n{plugin.name}: failed to import: {plugin.error}")
    if db_note:
        print(f"\n({db_note})")
    if problem:
        print(f"\nThis configuration cannot start:\n{problem}", file=sys.stderr)
        return 1
    return 0


def cmd_plugins_show(args: argparse.Namespace) -> int:
    settings = _settings(args.config)
    from .plugins import discover

    discovered = discover()
    if args.name not in discovered:
        names = ", ".join(p.name for p in discovered) or "none"
        print(f"No plugin named '{args.name}' is installed (installed: {names}).", file=sys.stderr)
        return 1
    plugin = discovered[args.name]
    installed, _ = _installed_versions(settings)
    print(f"name:          {plugin.name}")
    print(f"distribution:  {plugin.distribution} {plugin.distribution_version}")
    print(f"entry point:   {plugin.entry_point}")
    if not plugin.loaded:
        print(f"error:         failed to import: {plugin.error}")
        return 1
    m = plugin.manifest
    print(f"version:       {m.version}")
    print(f"installed:     {installed.get(plugin.name, 'no')}")
    print(f"summary:       {m.summary}")
    print(f"core:          {m.core}")
    print(f"depends:       {', '.join(m.depends) or '-'}")
    print(f"provides:      {', '.join(m.provides) or '-'}")
    print(f"requires:      {', '.join(m.requires) or '-'}")
    print(f"auto_install:  {'yes' if m.auto_install else 'no'}")
    print(f"dev only:      {'yes' if m.development_only else 'no'}")
    print(f"migrations:    {m.migrations or '-'}")
    print("settings:")
    for s in m.settings:
        print(f"  {s.key} ({s.kind}, default {s.default!r}, env {s.env_var}) {s.help}")
    return 0


def _bootstrap_app(config_uri: str) -> Any:
    """Build the app so every enabled plugin registers its tasks; return its registry."""
    from . import make_app

    return make_app(_platform(config_uri)).registry


def cmd_worker(args: argparse.Namespace) -> int:
    from .tasks.celery_app import share_no_connection_across_forks
    from .tasks.observability import connect_celery_signals

    registry = _bootstrap_app(args.config)
    share_no_connection_across_forks(registry)
    connect_celery_signals()
    queue = registry.settings["totetaxi.task_queue"]
    argv = ["worker", "--loglevel=INFO", "-Q", queue, *args.celery_args]
    registry.celery.worker_main(argv)
    return 0


def cmd_beat(args: argparse.Namespace) -> int:
    registry = _bootstrap_app(args.config)
    registry.celery.start(["beat", "--loglevel=INFO", *args.celery_args])
    return 0


def cmd_outbox_sweep(args: argparse.Namespace) -> int:
    from .tasks import sweep

    registry = _bootstrap_app(args.config)
    print(f"handed on {sweep(registry)} outbox messages")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    import datetime as dt

    from .business_time import BUSINESS_TZ
    from .demo import DemoRefused, run_demo

    if not 1 <= args.days <= 366:
        print("--days must be between 1 and 366.", file=sys.stderr)
        return 2
    end = None
    if args.end:
        try:
            day = dt.date.fromisoformat(args.end)
        except ValueError:
            print("--end must be YYYY-MM-DD.", file=sys.stderr)
            return 2
        end = dt.datetime.combine(day, dt.time(15), BUSINESS_TZ)
    settings = _settings(args.config)
    if not args.verbose:
        # Thousands of emails and tasks: their log lines would bury the summary.
        logging.getLogger("totetaxi").setLevel(logging.WARNING)
    try:
        summary = run_demo(settings, days=args.days, seed=args.seed, end=end)
    except DemoRefused as exc:
        print(str(exc), file=sys.stderr)
        return 1
    print("\n".join(summary.lines()))
    return 0


def cmd_live(args: argparse.Namespace) -> int:
    from . import make_app
    from .live.server import serve_live

    serve_live(make_app(_platform(args.config)), args.host, args.port, proxy=args.proxy)
    return 0


def _read_password(prompt: str = "Password: ") -> str:
    """Prompt twice on a terminal; read one line from standard input otherwise (scripts)."""
    if sys.stdin.isatty():
        first = getpass.getpass(prompt)
        if getpass.getpass("Repeat it: ") != first:
            raise SystemExit("The two passwords differ; nothing was created.")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def cmd_staff_create(args: argparse.Namespace) -> int:
    import datetime as dt

    from .context import Context
    from .db import unit_of_work
    from .identity.models import Role
    from .identity.services import IdentityError, create_staff

    if args.role not in [r.value for r in Role]:
        print(f"--role must be one of {', '.join(r.value for r in Role)}.", file=sys.stderr)
        return 2
    hire_date = None
    if args.hire_date:
        try:
            hire_date = dt.date.fromisoformat(args.hire_date)
        except ValueError:
            print("--hire-date must be YYYY-MM-DD.", file=sys.stderr)
            return 2
    registry = _bootstrap_app(args.config)
    password = _read_password()
    try:
        with unit_of_work(registry["dbsession_factory"]) as (dbsession, tm):
            ctx = Context(registry=registry, dbsession=dbsession, transaction_manager=tm)
            staff = create_staff(
                ctx,
                email=args.email,
                password=password,
                role=args.role,
                first_name=args.first_name,
                last_name=args.last_name,
                phone=args.phone,
                department=args.department,
                hire_date=hire_date,
            )
            summary = f"created {staff.role} {staff.email} ({staff.id})"
    except IdentityError as exc:
        print(f"{exc.field}: {exc.description}", file=sys.stderr)
        return 1
    except IntegrityError:
        print("email: A staff user with this email already exists.", file=sys.stderr)
        return 1
    print(summary)  # only once committed
    return 0


def cmd_staff_set_password(args: argparse.Namespace) -> int:
    """A new password for a staff user (who forgot theirs): every session and token ends."""
    from . import audit
    from .context import Context
    from .db import unit_of_work
    from .identity.models import PrincipalKind, StaffUser
    from .identity.services import IdentityError, normalize_email, set_password

    registry = _bootstrap_app(args.config)
    password = _read_password("New password: ")
    try:
        with unit_of_work(registry["dbsession_factory"]) as (dbsession, tm):
            ctx = Context(registry=registry, dbsession=dbsession, transaction_manager=tm)
            staff = dbsession.scalars(
                select(StaffUser).where(StaffUser.email == normalize_email(args.email))
            ).first()
            if staff is None:
                print(f"No staff user has the email {args.email}.", file=sys.stderr)
                return 1
            set_password(ctx, staff, password)
            registry.session_store.delete_for(dbsession, PrincipalKind.STAFF, staff.id)
            audit.record(ctx, "staff.password_set", "staff_user", staff.id, after={"by": "cli"})
    except IdentityError as exc:
        print(f"{exc.field}: {exc.description}", file=sys.stderr)
        return 1
    print(f"password changed for {args.email}; their sessions and tokens ended")
    return 0


def cmd_plugin_new(args: argparse.Namespace) -> int:
    """Generate a plugin distribution (see :mod:`totetaxi_core.scaffold`)."""
    from .scaffold import ScaffoldError, new_plugin

    try:
        target = new_plugin(args.name, slot=args.slot, real=args.real, path=args.path)
    except ScaffoldError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    enable = args.name + (f" {args.name}_mock" if args.slot else "")
    print(f"created {target}")
    print("next:")
    print(f"  pip install -e {target}")
    print(f'  add "{enable}" to totetaxi.plugins, then: totetaxi migrate development.ini')
    print(f"  pytest {target / 'tests'}")
    return 0


def cmd_revision(args: argparse.Namespace) -> int:
    """Autogenerate the next migration of a branch (see :mod:`totetaxi_core.revisions`)."""
    from .revisions import RevisionError, autogenerate

    settings = _settings(args.config) if args.config else None
    try:
        path = autogenerate(args.branch, args.message, settings)
    except RevisionError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    print(f"wrote {path}")
    print("read it (autogenerate misses renames and data changes), then: totetaxi migrate CONFIG")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="totetaxi", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("migrate", help="upgrade the schema of core and enabled plugins, load seeds")
    p.add_argument("config")
    p.set_defaults(func=cmd_migrate)

    plugins = sub.add_parser("plugins", help="inspect plugins").add_subparsers(
        dest="plugins_command", required=True
    )
    p = plugins.add_parser("list", help="every discovered plugin")
    p.add_argument("config")
    p.set_defaults(func=cmd_plugins_list)
    p = plugins.add_parser("show", help="one plugin's manifest")
    p.add_argument("name")
    p.add_argument("config")
    p.set_defaults(func=cmd_plugins_show)

    plugin = sub.add_parser("plugin", help="write plugins").add_subparsers(
        dest="plugin_command", required=True
    )
    p = plugin.add_parser(
        "new",
        help="generate a plugin distribution (totetaxi-NAME) that passes its own tests at once",
    )
    p.add_argument("name", help="plugin name: lower-case letters, digits and underscores")
    p.add_argument(
        "--slot",
        help="also declare this capability slot, with a mock and a real "
        "provider plugin and the slot's contract test",
    )
    p.add_argument(
        "--real", default="real", help="name of the real provider (plugin NAME_REAL); default: real"
    )
    p.add_argument("--path", default=".", help="folder to create totetaxi-NAME in; default: .")
    p.set_defaults(func=cmd_plugin_new)

    p = sub.add_parser(
        "revision",
        help="autogenerate the next migration of a plugin's (or the core's) Alembic branch",
    )
    p.add_argument("branch", help="a plugin name, or core")
    p.add_argument("-m", "--message", required=True, help="what the revision changes")
    p.add_argument(
        "config",
        nargs="?",
        help="a configuration whose enabled plugins and settings to use (optional)",
    )
    p.set_defaults(func=cmd_revision)

    for name, func, text in (
        ("worker", cmd_worker, "run a Celery worker for this configuration"),
        ("beat", cmd_beat, "run Celery beat (the periodic outbox sweep)"),
    ):
        p = sub.add_parser(name, help=text)
        p.add_argument("config")
        p.add_argument("celery_args", nargs=argparse.REMAINDER, help="passed on to celery")
        p.set_defaults(func=func)

    p = sub.add_parser(
        "demo",
        help="fill a development database with a realistic month (never in production)",
    )
    p.add_argument("config", help="the .ini file, e.g. development.ini")
    p.add_argument("--days", type=int, default=30, help="how many days up to today (default 30)")
    p.add_argument("--seed", type=int, default=1, help="the same seed gives the same month")
    p.add_argument("--end", default="", help="YYYY-MM-DD: end the month at 15:00 New York that day")
    p.add_argument("--verbose", action="store_true", help="keep the platform's log lines")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser(
        "live",
        help="serve live updates (WebSocket and Server-Sent Events at /api/v1/live) with uvicorn",
    )
    p.add_argument("config")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on; default 127.0.0.1")
    p.add_argument("--port", type=int, default=6544, help="port to listen on; default 6544")
    p.add_argument(
        "--proxy",
        default=None,
        help="address of the proxy in front, whose X-Forwarded-For/-Proto are believed",
    )
    p.set_defaults(func=cmd_live)

    staff = sub.add_parser("staff", help="staff accounts").add_subparsers(
        dest="staff_command", required=True
    )
    p = staff.add_parser(
        "create",
        help="create a staff user; the password is prompted (terminal) or read as one line "
        "from standard input",
    )
    p.add_argument("config")
    p.add_argument("--email", required=True)
    p.add_argument("--role", required=True, help="admin, staff or viewer")
    p.add_argument("--first-name", default="")
    p.add_argument("--last-name", default="")
    p.add_argument("--phone", default="")
    p.add_argument("--department", default="")
    p.add_argument("--hire-date", default="", help="YYYY-MM-DD")
    p.set_defaults(func=cmd_staff_create)

    p = staff.add_parser(
        "set-password",
        help="set a staff user's password (prompted or read "
        "from standard input); ends their sessions and tokens",
    )
    p.add_argument("config")
    p.add_argument("--email", required=True)
    p.set_defaults(func=cmd_staff_set_password)

    outbox = sub.add_parser("outbox", help="the task outbox").add_subparsers(
        dest="outbox_command", required=True
    )
    p = outbox.add_parser("sweep", help="hand on outbox messages the relay did not")
    p.add_argument("config")
    p.set_defaults(func=cmd_outbox_sweep)
    return parser


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the command line; ``revision``'s optional CONFIG may also follow ``-m MSG``.

    argparse fills every positional at the first run of them (``revision parcels``), so a
    CONFIG written after the options would be left over; take it as the CONFIG it is.
    """
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if (
        extra
        and getattr(args, "func", None) is cmd_revision
        and args.config is None
        and len(extra) == 1
        and not extra[0].startswith("-")
    ):
        args.config = extra[0]
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    try:
        return args.func(args)
    except StartupError as exc:
        print("totetaxi cannot start:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
