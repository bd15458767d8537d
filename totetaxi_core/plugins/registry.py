"""Plugin discovery and resolution (DESIGN §2).

:func:`discover` finds every installed plugin through entry points in group ``totetaxi.plugins``;
:meth:`PluginSet.resolve` turns the ``totetaxi.plugins`` setting into the ordered list of enabled
plugins, or raises :class:`~totetaxi_core.errors.PluginError` with one sentence per problem.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import metadata
from types import ModuleType

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from ..errors import PluginError
from .manifest import Manifest

ENTRY_POINT_GROUP = "totetaxi.plugins"


@dataclass
class Plugin:
    """A discovered plugin: where it came from and, unless it failed to import, its manifest."""

    name: str
    entry_point: str
    distribution: str
    distribution_version: str
    module: ModuleType | None = None
    error: str | None = None

    @property
    def manifest(self) -> Manifest:
        assert self.module is not None, f"plugin {self.name} failed to import"
        return self.module.manifest

    @property
    def loaded(self) -> bool:
        return self.module is not None


def _describe_import_error(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    where = ""
    if frames:
        last = frames[-1]
        where = f" (at {last.filename}:{last.lineno})"
    return f"{type(exc).__name__}: {exc}{where}"


def load_entry_point(entry_point: metadata.EntryPoint) -> Plugin:
    """Import one entry point, capturing an import failure instead of raising it."""
    dist = getattr(entry_point, "dist", None)
    plugin = Plugin(
        name=entry_point.name,
        entry_point=entry_point.value,
        distribution=dist.metadata["Name"] if dist is not None else "?",
        distribution_version=dist.version if dist is not None else "?",
    )
    try:
        module = entry_point.load()
    except Exception as exc:  # any import-time failure of third-party code
        plugin.error = _describe_import_error(exc)
        return plugin
    manifest = getattr(module, "manifest", None)
    if not isinstance(manifest, Manifest):
        plugin.error = f"{entry_point.value} has no 'manifest' (a totetaxi_core.plugins.Manifest)"
    elif manifest.name != entry_point.name:
        plugin.error = (
            f"its manifest is named {manifest.name!r} but its entry point is {entry_point.name!r}"
        )
    elif not callable(getattr(module, "includeme", None)):
        plugin.error = f"{entry_point.value} has no includeme(config) function"
    else:
        plugin.module = module
    return plugin


def discover(entry_points: Iterable[metadata.EntryPoint] | None = None) -> PluginSet:
    """Every installed plugin, by name (import failures included, marked with their error)."""
    if entry_points is None:
        entry_points = metadata.entry_points(group=ENTRY_POINT_GROUP)
    plugins: dict[str, Plugin] = {}
    duplicates: dict[str, list[Plugin]] = {}
    for ep in entry_points:
        plugin = load_entry_point(ep)
        if ep.name in plugins:
            duplicates.setdefault(ep.name, [plugins[ep.name]]).append(plugin)
            continue
        plugins[ep.name] = plugin
    return PluginSet(plugins, duplicates)


class PluginSet:
    """The discovered plugins, and the rules that pick and order the enabled ones."""

    def __init__(
        self, plugins: dict[str, Plugin], duplicates: dict[str, list[Plugin]] | None = None
    ) -> None:
        self.plugins = plugins
        #: names offered by more than one installed distribution: refused when enabled
        self.duplicates = duplicates or {}

    def __contains__(self, name: str) -> bool:
        return name in self.plugins

    def __getitem__(self, name: str) -> Plugin:
        return self.plugins[name]

    def __iter__(self):
        return iter(sorted(self.plugins.values(), key=lambda p: p.name))

    def _installed_sentence(self) -> str:
        if not self.plugins:
            return "no plugin distributions are installed"
        by_dist: dict[str, list[str]] = {}
        for p in self.plugins.values():
            by_dist.setdefault(f"{p.distribution} {p.distribution_version}", []).append(p.name)
        parts = [f"{dist} ({', '.join(sorted(names))})" for dist, names in sorted(by_dist.items())]
        return "installed: " + "; ".join(parts)

    def resolve(
        self,
        requested: Sequence[str],
        *,
        disabled: Iterable[str] = (),
        environment: str = "development",
        core_version: str,
    ) -> list[Plugin]:
        """The enabled plugins in dependency order (dependencies first).

        ``requested`` comes from ``totetaxi.plugins``; ``disabled`` (``TOTETAXI_PLUGINS_DISABLED``)
        removes names from it. Dependencies are added, then ``auto_install`` glue plugins whose
        dependencies are all enabled. Every problem found is reported, one sentence each.
        """
        disabled = set(disabled)
        problems: list[str] = []
        enabled: dict[str, Plugin] = {}
        pending = [name for name in requested if name not in disabled]

        def enable(name: str, wanted_by: str | None) -> None:
            if name in enabled:
                return
            if name in disabled:
                problems.append(
                    f"Plugin '{wanted_by}' depends on '{name}', which TOTETAXI_PLUGINS_DISABLED "
                    f"switches off; disable '{wanted_by}' too or re-enable '{name}'."
                )
                return
            plugin = self.plugins.get(name)
            if plugin is None:
                if wanted_by is None:
                    problems.append(
                        f"Unknown plugin '{name}' in totetaxi.plugins: no installed distribution "
                        f"provides it ({self._installed_sentence()})."
                    )
                else:
                    problems.append(
                        f"Plugin '{wanted_by}' depends on '{name}', which is not installed; "
                        f"pip install the distribution that provides '{name}'."
                    )
                return
            if name in self.duplicates:
                offers = " and ".join(
                    f"{p.distribution} {p.distribution_version}" for p in self.duplicates[name]
                )
                problems.append(
                    f"Plugin '{name}' is provided by two installed distributions, {offers}; "
                    f"uninstall one of them."
                )
                return
            if not plugin.loaded:
                needed = f", needed by '{wanted_by}'," if wanted_by else ""
                problems.append(
                    f"Plugin '{name}' (distribution {plugin.distribution} "
                    f"{plugin.distribution_version}){needed} failed to import: {plugin.error}"
                )
                return
            enabled[name] = plugin
            for dep in plugin.manifest.depends:
                enable(dep, name)

        for name in pending:
            enable(name, None)

        # auto_install glue: switch on once all of its dependencies are on, until nothing changes.
        changed = True
        while changed and not problems:
            changed = False
            for plugin in self:
                if (
                    plugin.loaded
                    and plugin.name not in enabled
                    and plugin.name not in disabled
                    and plugin.manifest.auto_install
                    and plugin.manifest.depends
                    and all(dep in enabled for dep in plugin.manifest.depends)
                ):
                    enabled[plugin.name] = plugin
                    changed = True

        if problems:
            raise PluginError(problems)

        problems.extend(self._check_compatibility(enabled.values(), core_version, environment))
        problems.extend(self._check_slots(enabled.values()))
        if problems:
            raise PluginError(problems)
        return _topological_order(enabled, requested)

    def _check_compatibility(
        self, enabled: Iterable[Plugin], core_version: str, environment: str
    ) -> list[str]:
        problems = []
        for plugin in enabled:
            manifest = plugin.manifest
            try:
                spec = SpecifierSet(manifest.core)
            except InvalidSpecifier:
                problems.append(
                    f"Plugin '{plugin.name}' declares an invalid core specifier {manifest.core!r}."
                )
                continue
            if not spec.contains(Version(core_version), prereleases=True):
                problems.append(
                    f"Plugin '{plugin.name}' {manifest.version} needs totetaxi-core "
                    f"{manifest.core}, but this is totetaxi-core {core_version}; install a "
                    f"matching version of either."
                )
            if manifest.development_only and environment == "production":
                slots = ", ".join(manifest.provides) or "its features"
                problems.append(
                    f"Plugin '{plugin.name}' is for development only and cannot be enabled when "
                    f"totetaxi.environment = production; enable a real provider of {slots} instead."
                )
        return problems

    def _check_slots(self, enabled: Iterable[Plugin]) -> list[str]:
        enabled = list(enabled)
        providers: dict[str, list[str]] = {}
        for plugin in enabled:
            for slot in plugin.manifest.provides:
                providers.setdefault(slot, []).append(plugin.name)
        problems = []
        for slot, names in sorted(providers.items()):
            if len(names) > 1:
                quoted = [repr(n) for n in sorted(names)]
                listed = ", ".join(quoted[:-1]) + " and " + quoted[-1]
                which = "both" if len(names) == 2 else "all"
                problems.append(
                    f"Plugins {listed} {which} provide the '{slot}' slot; enable only one of them."
                )
        for plugin in enabled:
            for slot in plugin.manifest.requires:
                if slot not in providers:
                    candidates = sorted(
                        p.name for p in self if p.loaded and slot in p.manifest.provides
                    )
                    hint = (
                        f"enable one of: {', '.join(candidates)}"
                        if candidates
                        else "no installed plugin provides it"
                    )
                    problems.append(
                        f"Plugin '{plugin.name}' requires the '{slot}' slot, but no enabled plugin "
                        f"provides it; {hint}."
                    )
        return problems


def _topological_order(enabled: dict[str, Plugin], requested: Sequence[str]) -> list[Plugin]:
    """Dependencies before dependents; otherwise the order the settings listed them in."""
    rank = {name: i for i, name in enumerate(requested)}
    names = sorted(enabled, key=lambda n: (rank.get(n, len(rank)), n))
    ordered: list[Plugin] = []
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(name: str) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            cycle = [*stack[stack.index(name) :], name]
            raise PluginError(
                f"Plugins {' -> '.join(cycle)} depend on each other in a cycle; remove one of "
                f"these dependencies."
            )
        state[name] = "visiting"
        stack.append(name)
        for dep in enabled[name].manifest.depends:
            if dep in enabled:
                visit(dep)
        stack.pop()
        state[name] = "done"
        ordered.append(enabled[name])

    for name in names:
        visit(name)
    return ordered
