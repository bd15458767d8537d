"""``totetaxi revision``: autogenerate the next migration of one branch (the core's or a plugin's).

Autogenerate compares the models with a database. The one used is a scratch SQLite database
migrated to the head of every branch involved, not the configuration's database: the migration
written must describe the difference between the *migrations* and the models, whatever state
some developer's database has drifted into, and writing a revision must never need (or touch) a
real database.

Only the chosen branch's tables are compared (``include_object``): every plugin's models share
one metadata, and a revision of ``notes`` must not create or drop the tables of ``pricing``. A
table belongs to the plugin whose module is the longest prefix of its mapped class's module
(``totetaxi_payments.adapters.mock`` before ``totetaxi_payments``), and to the core when no
plugin's is. A table that only the database has is never dropped by autogenerate: nothing says
whose it was (write ``op.drop_table`` by hand when a plugin removes one).

Alembic writes its strings single-quoted. Where ruff is installed (the ``test`` extra, a plugin
author's development environment), the written file is then run through ``ruff format`` (under
the ruff configuration found from the file's folder), so that it passes ``ruff format --check``;
without ruff it is left as Alembic wrote it.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.operations.ops import MigrationScript
from alembic.script import ScriptDirectory

from .migrate import CORE_MIGRATIONS, package_path
from .plugins import Plugin, PluginSet, discover

__all__ = ["RevisionError", "autogenerate", "plugins_for"]

#: A revision id of the platform's style: a prefix and a zero-padded number (``c0005``,
#: ``notes0001``), continued by the next revision of the branch.
_NUMBERED = re.compile(r"^(?P<prefix>.*?)(?P<number>\d+)$")


class RevisionError(Exception):
    """Why no revision was written, as one sentence."""


def plugins_for(discovered: PluginSet, names: Iterable[str]) -> list[str]:
    """``names`` plus whatever makes them startable: their dependencies, and for each slot some
    enabled plugin requires but none provides, one provider (a development-only one first).
    """
    wanted = list(dict.fromkeys(names))
    while True:
        enabled: dict[str, Plugin] = {}
        pending = list(wanted)
        while pending:
            name = pending.pop()
            plugin = discovered.plugins.get(name)
            if name in enabled or plugin is None or not plugin.loaded:
                continue
            enabled[name] = plugin
            pending.extend(plugin.manifest.depends)
        provided = {slot for p in enabled.values() for slot in p.manifest.provides}
        missing = [
            slot for p in enabled.values() for slot in p.manifest.requires if slot not in provided
        ]
        if not missing:
            return wanted
        candidates = sorted(
            (p for p in discovered if p.loaded and missing[0] in p.manifest.provides),
            key=lambda p: (not p.manifest.development_only, p.name),
        )
        if not candidates:
            return wanted  # the registry will say so, in its own words
        wanted.append(candidates[0].name)


def _owner_of(table_modules: Mapping[str, str], plugins: list[Plugin]) -> Callable[[str], str]:
    """A function from a table name to the branch label that owns it."""
    prefixes = []
    for plugin in plugins:
        module = plugin.module
        assert module is not None
        # A package owns its submodules; a plain module (an adapter) only itself.
        is_package = hasattr(module, "__path__")
        prefixes.append((module.__name__ + ("." if is_package else ""), plugin.name))
    prefixes.sort(key=lambda item: len(item[0]), reverse=True)

    def owner(table: str) -> str:
        module = table_modules.get(table)
        if module is None:
            return "core"
        for prefix, name in prefixes:
            if module.startswith(prefix) if prefix.endswith(".") else module == prefix:
                return name
        return "core"

    return owner


def _next_id(script: ScriptDirectory, label: str) -> str | None:
    """The id after the branch's head in the platform's numbering, or ``None`` (Alembic's)."""
    head = script.get_revision(f"{label}@head")
    assert head is not None
    numbered = _NUMBERED.match(head.revision)
    if numbered is None:
        return None
    width = len(numbered["number"])
    candidate = f"{numbered['prefix']}{int(numbered['number']) + 1:0{width}d}"
    try:
        taken = script.get_revision(candidate) is not None
    except Exception:  # an unknown id: free
        taken = False
    return None if taken else candidate


def autogenerate(label: str, message: str, settings: Mapping[str, Any] | None = None) -> Path:
    """Write the next revision of branch ``label`` (``core`` or a plugin name); return its file.

    ``settings`` (a configuration's, optional) says which other plugins are enabled and gives
    their settings; the branch's plugin is enabled in any case. Raises :class:`RevisionError`
    when the branch is unknown or nothing changed, a ``StartupError`` when the plugins cannot
    start together.
    """
    from . import make_app
    from .db import make_engine, metadata
    from .platform import prepare

    discovered = discover()
    if label != "core":
        plugin = discovered.plugins.get(label)
        if plugin is None:
            names = ", ".join(p.name for p in discovered) or "none"
            raise RevisionError(f"No plugin named '{label}' is installed (installed: {names}).")
        if not plugin.loaded:
            raise RevisionError(f"Plugin '{label}' failed to import: {plugin.error}")
        if not plugin.manifest.migrations:
            raise RevisionError(
                f"Plugin '{label}' has no migrations folder (manifest.migrations); add one with "
                f"a first revision whose branch_labels is ('{label}',)."
            )
    base = dict(settings or {})
    requested = str(base.get("totetaxi.plugins", "")).replace(",", " ").split()
    if label != "core":
        requested.append(label)
    with tempfile.TemporaryDirectory(prefix="totetaxi-revision-") as scratch:
        base.update(
            {
                "sqlalchemy.url": f"sqlite:///{Path(scratch) / 'scratch.sqlite'}",
                # Development, so that mock providers may stand in for a required slot.
                "totetaxi.environment": "development",
                "totetaxi.plugins": " ".join(plugins_for(discovered, requested)),
                "totetaxi.tasks_mode": "eager",
                # The scratch database holds the schema only: no plugin is installed or seeded
                # there (seed code follows the models, which are ahead of the migrations now).
                "totetaxi.check_schema": "false",
            }
        )
        for key in ("totetaxi.secret", "totetaxi.broker_url"):
            base.pop(key, None)
        platform = prepare(base, environ={})
        engine = make_engine(platform.settings)
        try:
            cfg = _config(platform.enabled, engine)
            command.upgrade(cfg, "heads")
            # Building the app imports every module of every enabled plugin: all their models
            # are then on the metadata, wherever a plugin keeps them.
            make_app(platform).registry["dbengine"].dispose()
            loaded = [p for p in discovered if p.loaded]
            return _write(cfg, loaded, label, message, metadata)
        finally:
            engine.dispose()


def _config(enabled: list[Plugin], engine: Any) -> Config:
    """Alembic's configuration for the core's and the enabled plugins' branches only.

    Unlike :func:`totetaxi_core.migrate.alembic_config` it leaves out disabled plugins' branches:
    autogenerate refuses to run unless the database is at every head it knows of.
    """
    cfg = Config()
    cfg.set_main_option("script_location", package_path("totetaxi_core:migrations"))
    cfg.set_main_option("path_separator", "space")
    folders = [package_path(CORE_MIGRATIONS)] + [
        package_path(p.manifest.migrations) for p in enabled if p.manifest.migrations
    ]
    cfg.set_main_option("version_locations", " ".join(folders))
    cfg.attributes["engine"] = engine
    return cfg


def _write(cfg: Config, plugins: list[Plugin], label: str, message: str, metadata: Any) -> Path:
    """Autogenerate into ``label``'s versions folder; ``plugins`` are every importable plugin
    (a disabled plugin's models are on the metadata too once its module is imported, and its
    tables must not be taken for the core's)."""
    from .db import Base

    table_modules = {
        mapper.local_table.name: mapper.class_.__module__
        for mapper in Base.registry.mappers
        if getattr(mapper.local_table, "name", None)
    }
    owner = _owner_of(table_modules, plugins)

    def include_object(
        obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
    ) -> bool:
        table = obj if type_ == "table" else getattr(obj, "table", None)
        if table is None or table.name not in metadata.tables:
            return False  # only in the database: see the module's documentation
        return owner(table.name) == label

    empty: list[bool] = []

    def process_revision_directives(context: Any, revision: Any, directives: list[Any]) -> None:
        script = directives[0]
        assert isinstance(script, MigrationScript)
        if script.upgrade_ops is not None and script.upgrade_ops.is_empty():
            empty.append(True)
            directives[:] = []  # write nothing rather than an empty migration

    cfg.attributes.update(
        include_object=include_object, process_revision_directives=process_revision_directives
    )
    script = ScriptDirectory.from_config(cfg)
    written = command.revision(
        cfg,
        message=message,
        autogenerate=True,
        head=f"{label}@head",
        rev_id=_next_id(script, label),
    )
    if empty or written is None:
        raise RevisionError(
            f"No change found between the models of '{label}' and its migrations; nothing "
            f"was written."
        )
    scripts = written if isinstance(written, list) else [written]
    path = Path(scripts[0].path)
    _format(path)
    return path


def _format(path: Path) -> None:
    """``ruff format`` the written file when ruff is importable; otherwise leave it as it is.

    A formatter that fails (it should not, on what Alembic writes) leaves the file unchanged: the
    revision is written either way.
    """
    if importlib.util.find_spec("ruff") is None:
        return
    subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--quiet", str(path)],
        cwd=path.parent,
        capture_output=True,
        check=False,
        timeout=60,
    )
