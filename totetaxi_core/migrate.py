"""Schema migrations and plugin installation (DESIGN §2, §4).

The core's Alembic branch is labelled ``core``; each plugin with a ``migrations`` folder has its
own branch labelled with the plugin name whose first revision ``depends_on`` a core revision.
:func:`migrate` upgrades the core and every enabled plugin, then records installed plugins and
loads each newly installed plugin's seed data exactly once.
"""

from __future__ import annotations

import logging
from importlib import resources
from pathlib import Path

import transaction
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

from .db import get_tm_session, make_session_factory, utcnow
from .errors import SchemaBehindError
from .platform import Platform
from .plugins import Plugin
from .plugins.models import InstalledPlugin
from .version import __version__

log = logging.getLogger("totetaxi.migrate")

CORE_MIGRATIONS = "totetaxi_core:migrations/versions"


def package_path(spec: str) -> str:
    """``"package:relative/path"`` (or an absolute path) to an absolute filesystem path."""
    if Path(spec).is_absolute():
        return spec
    package, _, relative = spec.partition(":")
    return str(Path(str(resources.files(package))) / relative)


def _branches(platform: Platform, plugins: list[Plugin]) -> list[tuple[str, str]]:
    """(branch label, versions folder) for the core and each given plugin with migrations."""
    branches = [("core", package_path(CORE_MIGRATIONS))]
    for plugin in plugins:
        if plugin.loaded and plugin.manifest.migrations:
            branches.append((plugin.name, package_path(plugin.manifest.migrations)))
    return branches


def alembic_config(platform: Platform, engine: Engine) -> Config:
    """An Alembic config that knows the core branch and every loadable plugin's branch.

    Disabled plugins' folders are included too, so a database that still holds their revisions
    resolves; only enabled branches are upgraded.
    """
    cfg = Config()
    cfg.set_main_option("script_location", package_path("totetaxi_core:migrations"))
    cfg.set_main_option("path_separator", "space")
    folders = [folder for _, folder in _branches(platform, list(platform.discovered))]
    cfg.set_main_option("version_locations", " ".join(folders))
    cfg.attributes["engine"] = engine
    return cfg


def expected_heads(platform: Platform, script: ScriptDirectory) -> dict[str, str]:
    """The head revision of each enabled branch, by label."""
    return {
        label: script.get_revision(f"{label}@head").revision
        for label, _ in _branches(platform, platform.enabled)
    }


def _known(script: ScriptDirectory, revision: str) -> bool:
    try:
        return script.get_revision(revision) is not None
    except Exception:  # a revision of a plugin that is no longer installed
        return False


def schema_problems(platform: Platform, engine: Engine) -> list[str]:
    """Sentences for each enabled branch the database is behind, or each plugin not installed."""
    cfg = alembic_config(platform, engine)
    script = ScriptDirectory.from_config(cfg)
    with engine.connect() as connection:
        heads = MigrationContext.configure(connection).get_current_heads()
        installed: dict[str, str] = {}
        if inspect(connection).has_table(InstalledPlugin.__tablename__):
            installed = dict(
                connection.execute(
                    InstalledPlugin.__table__.select().with_only_columns(
                        InstalledPlugin.name, InstalledPlugin.version
                    )
                ).all()
            )
    # alembic_version keeps only heads; a plugin revision that depends_on a core revision stands
    # for both, so compare against everything the current heads stand on.
    known_heads = [h for h in heads if _known(script, h)]
    current = {rev.revision for rev in script.iterate_revisions(known_heads, "base")}
    run = f"run `totetaxi migrate {platform.config_file}`"
    problems = []
    for label, head in expected_heads(platform, script).items():
        if head not in current:
            problems.append(
                f"The database schema of '{label}' is behind its code (needs revision {head}); "
                f"{run}."
            )
    versions = {"core": __version__} | {p.name: p.manifest.version for p in platform.enabled}
    for name, version in versions.items():
        if name not in installed:
            problems.append(f"Plugin '{name}' {version} is not installed in this database; {run}.")
        elif installed[name] != version:
            problems.append(
                f"Plugin '{name}' is installed at version {installed[name]} but the code is "
                f"{version}; {run}."
            )
    # Several sentences about one branch say the same thing; keep the first per name.
    seen: set[str] = set()
    unique = []
    for sentence in problems:
        key = sentence.split("'")[1]
        if key not in seen:
            seen.add(key)
            unique.append(sentence)
    return unique


def check_schema(platform: Platform, engine: Engine) -> None:
    """Raise :class:`SchemaBehindError` when the app must not serve this database yet."""
    problems = schema_problems(platform, engine)
    if problems:
        raise SchemaBehindError(problems)


def migrate(platform: Platform, engine: Engine) -> list[str]:
    """Upgrade the core and every enabled plugin, then install and seed new plugins.

    Returns a report, one line per thing done. Safe to run again: it does nothing new.
    """
    cfg = alembic_config(platform, engine)
    report = []
    for label, _ in _branches(platform, platform.enabled):
        command.upgrade(cfg, f"{label}@head")
    report.append(
        f"schema at head for: {', '.join(lbl for lbl, _ in _branches(platform, platform.enabled))}"
    )

    tm = transaction.TransactionManager(explicit=True)
    with tm:
        dbsession = get_tm_session(make_session_factory(engine), tm)
        units: list[tuple[str, str, Plugin | None]] = [("core", __version__, None)]
        units += [(p.name, p.manifest.version, p) for p in platform.enabled]
        for name, version, plugin in units:
            row = dbsession.get(InstalledPlugin, name)
            if row is None:
                row = InstalledPlugin(name=name, version=version, installed_at=utcnow())
                dbsession.add(row)
                report.append(f"installed {name} {version}")
                if plugin is not None and plugin.manifest.seed is not None:
                    plugin.manifest.seed(dbsession, platform.settings)
                    dbsession.flush()
                    report.append(f"loaded seed data of {name}")
                row.seeded_at = utcnow()
            elif row.version != version:
                report.append(f"upgraded {name} {row.version} -> {version}")
                row.version = version
                row.upgraded_at = utcnow()
    for line in report:
        log.info("%s", line)
    return report
