"""``totetaxi plugin new``: a plugin distribution that passes its own tests at once.

The generated distribution has every room of DESIGN §1 (manifest and wiring, a model with the
first migration on the plugin's own Alembic branch, a Cornice service, a console page with its
nav entry, permissions, a task, seed data, hooks) and tests written against
:mod:`totetaxi_core.testing`. With ``--slot SLOT`` it also declares a capability slot: the
interface, the hookspec through which a provider answers, a mock and a real adapter (each its own
plugin) and the slot's contract test that both run. A slot whose hook the core already declares
(``dispatcher``, ``file_storage``, ``payment_gateway``, ``mailer``) gets the same files but no
hookspec: the providers answer the core's ``totetaxi_SLOT``, so the core's callers find them.

The templates are package data under ``templates/``: ``base/`` always, ``slot/`` on top of it
with a slot. They are Jinja2 with angle delimiters (``<< name >>``, ``<% if slot %>``) because
the console page they generate is itself a Jinja template with curly ones, and Python type hints
are full of square brackets. In paths, ``__package__`` becomes the package name, ``__plugin__``
the plugin name, ``__real__`` the real adapter's, ``__slot__`` the slot's and ``__first__`` the
first revision's file name; the ``.tmpl`` suffix is dropped.

What they generate passes ``ruff check`` and ``ruff format --check`` under the generated
pyproject.toml, whatever the names (nothing is formatted at generation time): templates are
written in the formatter's style, and wherever a line's length would depend on a name, the call
or literal is exploded one item a line with a magic trailing comma, or the name moves to a short
line of its own, so that the layout is the same for a 2-character name and a 20-character one.
The generated pyproject.toml also carries the import contract that ``lint-imports`` checks: the
package imports nothing of the core but :mod:`totetaxi_core.plugin_api` (the ``public_api``
contract type of :mod:`totetaxi_core.lint_contracts`).
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass
from importlib import metadata, resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import jinja2

from ..hooks import specs
from ..plugins import ENTRY_POINT_GROUP

__all__ = ["Scaffold", "ScaffoldError", "new_plugin", "plan"]

#: Plugin and slot names: what a settings prefix, an Alembic branch label, a Python package
#: suffix and a route name can all carry. Lower case so that the distribution name
#: (``totetaxi-NAME``) and the package name agree without case folding; at most 20 characters so
#: that the generated code (hook ``totetaxi_NAME_SLOT``...) stays within the line length.
NAME = re.compile(r"^[a-z][a-z0-9_]{1,19}$")
#: Names the platform itself uses for something else (the core's branch label, settings prefix).
RESERVED = frozenset({"core", "totetaxi", "retry", "sqlalchemy", "test", "tests"})


class ScaffoldError(ValueError):
    """A name or a destination the scaffold refuses, with the sentence saying why."""


@dataclass(frozen=True)
class Scaffold:
    """What one ``totetaxi plugin new`` generates: the names every template is rendered with."""

    name: str
    slot: str | None
    real: str
    core_revision: str
    #: The slot's hook is the core's (``dispatcher``, ``file_storage``...): the plugin declares
    #: no hookspec of its own and its providers answer ``totetaxi_<slot>``.
    core_slot: bool = False

    @property
    def package(self) -> str:
        return f"totetaxi_{self.name}"

    @property
    def distribution(self) -> str:
        return f"totetaxi-{self.name.replace('_', '-')}"

    @property
    def first_revision(self) -> str:
        # Prefixed by the plugin name: revision ids share one namespace across all branches.
        return f"{self.name}0001"

    def context(self) -> dict[str, Any]:
        camel = "".join(part.title() for part in self.name.split("_"))
        slot_camel = "".join(part.title() for part in (self.slot or "").split("_"))
        return {
            "name": self.name,
            "title": self.name.replace("_", " ").title(),
            "camel": camel,
            "package": self.package,
            "distribution": self.distribution,
            "slot": self.slot,
            "slot_camel": slot_camel,
            "core_slot": self.core_slot,
            "slot_hook": (
                f"totetaxi_{self.slot}" if self.core_slot else f"totetaxi_{self.name}_{self.slot}"
            ),
            "real": self.real,
            "core_revision": self.core_revision,
            "first_revision": self.first_revision,
        }

    def destination(self, relative: str) -> str:
        """A template's path in the generated distribution (placeholders replaced)."""
        for placeholder, value in (
            ("__package__", self.package),
            ("__plugin__", self.name),
            ("__real__", self.real),
            ("__slot__", self.slot or ""),
            ("__first__", f"{self.first_revision}_{self.name}"),
        ):
            relative = relative.replace(placeholder, value)
        return relative.removesuffix(".tmpl")


def _installed_plugin_names() -> dict[str, str]:
    """Every plugin name an installed distribution declares, with that distribution's name.

    Read from the entry points without importing anything: a broken plugin elsewhere must not
    stop a new one from being created.
    """
    names: dict[str, str] = {}
    for entry_point in metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist = entry_point.dist.name if entry_point.dist is not None else "?"
        names[entry_point.name] = dist
    return names


def _declared_slots() -> dict[str, str]:
    """Slots installed plugins provide or require, with one plugin naming each.

    These do import the plugins (a manifest is code); one that fails to import is skipped: the
    registry reports it on its own.
    """
    from ..plugins import discover

    slots: dict[str, str] = {}
    for plugin in discover():
        if plugin.loaded:
            for slot in (*plugin.manifest.provides, *plugin.manifest.requires):
                slots.setdefault(slot, plugin.name)
    return slots


def _core_slots() -> set[str]:
    """Slots whose hook the core already declares (``totetaxi_mailer`` -> ``mailer``)."""
    return {name.removeprefix("totetaxi_") for name in dir(specs) if name.startswith("totetaxi_")}


def _check_name(what: str, value: str) -> None:
    if not NAME.match(value) or keyword.iskeyword(value) or "__" in value:
        raise ScaffoldError(
            f"{what} {value!r} is not usable: use 2 to 20 lower-case letters, digits and single "
            f"underscores, starting with a letter (it becomes a Python package, a settings "
            f"prefix and an Alembic branch label)."
        )
    if value in RESERVED:
        raise ScaffoldError(f"{what} {value!r} is reserved by the platform; choose another.")


def _core_head() -> str:
    """The core branch's head revision: the first plugin revision ``depends_on`` it."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from ..migrate import CORE_MIGRATIONS, package_path

    cfg = Config()
    cfg.set_main_option("script_location", package_path("totetaxi_core:migrations"))
    cfg.set_main_option("path_separator", "space")
    cfg.set_main_option("version_locations", package_path(CORE_MIGRATIONS))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    assert head is not None, "the core has no migrations"
    return head


def plan(name: str, slot: str | None = None, real: str = "real") -> Scaffold:
    """Validate the names and return what would be generated, or raise :class:`ScaffoldError`."""
    _check_name("Plugin name", name)
    installed = _installed_plugin_names()
    adapters = [f"{name}_mock", f"{name}_{real}"] if slot else []
    for candidate in (name, *adapters):
        if candidate in installed:
            raise ScaffoldError(
                f"A plugin named {candidate!r} is already installed (distribution "
                f"{installed[candidate]}); plugin names are global, choose another."
            )
    if slot is not None:
        _check_name("Slot name", slot)
        _check_name("Real adapter name", real)
        if real == "mock":
            raise ScaffoldError("The real adapter cannot be called 'mock': that is the mock's.")
        owner = _declared_slots().get(slot)
        if owner is not None:
            raise ScaffoldError(
                f"Slot {slot!r} is already in use by the installed plugin {owner!r}; write a "
                f"provider plugin for it, or choose another slot name."
            )
    core_slot = slot is not None and slot in _core_slots()
    return Scaffold(
        name=name, slot=slot, real=real, core_revision=_core_head(), core_slot=core_slot
    )


def _templates(root: Traversable, prefix: str = "") -> list[tuple[str, Traversable]]:
    """Every template file under ``root`` with its path relative to it (POSIX, sorted)."""
    found: list[tuple[str, Traversable]] = []
    for child in root.iterdir():
        relative = f"{prefix}{child.name}"
        if child.is_dir():
            if child.name != "__pycache__":
                found.extend(_templates(child, relative + "/"))
        elif child.name.endswith(".tmpl"):
            found.append((relative, child))
    return sorted(found, key=lambda item: item[0])


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        variable_start_string="<<",
        variable_end_string=">>",
        block_start_string="<%",
        block_end_string="%>",
        comment_start_string="<#",
        comment_end_string="#>",
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,  # a misspelt variable fails here, not in a plugin
        autoescape=False,  # noqa: S701 - generates Python and ini files, never HTML to serve
    )


def new_plugin(
    name: str, *, slot: str | None = None, real: str = "real", path: Path | str = "."
) -> Path:
    """Generate the distribution of plugin ``name`` in ``path/totetaxi-NAME``; return its folder.

    Refuses (:class:`ScaffoldError`) a bad or taken name and an existing destination: nothing
    is ever overwritten.
    """
    scaffold = plan(name, slot, real)
    target = Path(path) / scaffold.distribution
    if target.exists():
        raise ScaffoldError(f"{target} already exists; nothing was written.")
    env = _environment()
    context = scaffold.context()
    root = resources.files(__name__) / "templates"
    layers = ["base", "slot"] if slot else ["base"]
    files: dict[str, str] = {}
    for layer in layers:
        for relative, template in _templates(root / layer):
            if scaffold.core_slot and relative.endswith("hookspecs.py.tmpl"):
                continue  # the core declares the slot's hook
            text = env.from_string(template.read_text(encoding="utf-8")).render(context)
            files[scaffold.destination(relative)] = text  # the slot layer only adds files
    for relative, text in files.items():
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_text(text, encoding="utf-8")
    return target
