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

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

from .db import make_session_factory, unit_of_work, utcnow
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
    except Exception:  # a revision of a plugin whose distribution is gone
        return False


def _database_state(engine: Engine) -> tuple[list[str], dict[str, str]]:
    """The Alembic heads recorded in the database and the installed plugins' versions."""
    with engine.connect() as connection:
        heads = list(MigrationContext.configure(connection).get_current_heads())
        installed: dict[str, str] = {}
        if inspect(connection).has_table(InstalledPlugin.__tablename__):
            table = InstalledPlugin.__table__
            installed = dict(
                connection.execute(
                    table.select().with_only_columns(table.c.name, table.c.version)
                ).all()
            )
    return heads, installed


def missing_distributions(
    platform: Platform, script: ScriptDirectory, heads: list[str], installed: dict[str, str]
) -> list[str]:
    """Sentences for revisions in the database that no installed distribution provides.

    That happens when a plugin's distribution is uninstalled: Alembic can then neither resolve
    the database's history nor upgrade anything, so say which plugin to reinstall.
    """
    unknown = [h for h in heads if not _known(script, h)]
    if not unknown:
        return []
    gone = sorted(name for name in installed if name != "core" and name not in platform.discovered)
    who = (
        f"plugin {', '.join(repr(n) for n in gone)} is installed in this database but its "
        f"distribution is not"
        if gone
        else "no installed plugin distribution provides them"
    )
    return [
        f"The database holds migration revision {', '.join(unknown)}, but {who}; reinstall the "
        f"distribution (disabling a plugin keeps it installed) before serving or migrating."
    ]


def schema_problems(platform: Platform, engine: Engine) -> list[str]:
    """Sentences for each enabled branch the database is behind, or each plugin not installed."""
    script = ScriptDirectory.from_config(alembic_config(platform, engine))
    heads, installed = _database_state(engine)
    gone = missing_distributions(platform, script, heads, installed)
    if gone:
        return gone
    # alembic_version keeps only heads; a plugin revision that depends_on a core revision stands
    # for both, so compare against everything the current heads stand on.
    current = {rev.revision for rev in script.iterate_revisions(heads, "base")}
    run = f"run `totetaxi migrate {platform.config_file}`"
    problems: dict[str, str] = {}  # one sentence per plugin: the schema one says enough
    for label, head in expected_heads(platform, script).items():
        if head not in current:
            problems[label] = (
                f"The database schema of '{label}' is behind its code (needs revision {head}); "
                f"{run}."
            )
    versions = {"core": __version__} | {p.name: p.manifest.version for p in platform.enabled}
    for name, version in versions.items():
        if name in problems:
            continue
        if name not in installed:
            problems[name] = f"Plugin '{name}' {version} is not installed in this database; {run}."
        elif installed[name] != version:
            problems[name] = (
                f"Plugin '{name}' is installed at version {installed[name]} but the code is "
                f"{version}; {run}."
            )
    return list(problems.values())


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
    heads, installed = _database_state(engine)
    gone = missing_distributions(platform, ScriptDirectory.from_config(cfg), heads, installed)
    if gone:
        raise SchemaBehindError(gone)
    report = []
    for label, _ in _branches(platform, platform.enabled):
        command.upgrade(cfg, f"{label}@head")
    report.append(
        f"schema at head for: {', '.join(lbl for lbl, _ in _branches(platform, platform.enabled))}"
    )

    with unit_of_work(make_session_factory(engine)) as (dbsession, _):
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
