"""The facts of every discovered plugin, as ``totetaxi plugins list`` prints them and the
console's plugins page shows them."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

from .registry import Plugin


def plugin_facts(
    discovered: Iterable[Plugin],
    enabled: Collection[str],
    disabled: Collection[str],
    installed: Mapping[str, str],
) -> list[dict[str, Any]]:
    """One mapping per discovered plugin: ``name``, ``version``, ``summary``, ``depends``,
    ``provides``, ``requires`` (lists; ``None`` when the plugin failed to import), ``state``
    (``yes``, ``no``, ``disabled`` by the environment, ``BROKEN``), ``enabled``, ``installed``
    (the schema version ``totetaxi migrate`` installed, or ``None``), ``distribution`` and
    ``error``."""
    rows = []
    for plugin in discovered:
        if plugin.loaded:
            m = plugin.manifest
            version, summary = m.version, m.summary
            depends, provides, requires = list(m.depends), list(m.provides), list(m.requires)
        else:
            version, summary, depends, provides, requires = "?", "", None, None, None
        state = (
            "yes" if plugin.name in enabled else ("disabled" if plugin.name in disabled else "no")
        )
        if not plugin.loaded:
            state = "BROKEN"
        rows.append(
            {
                "name": plugin.name,
                "version": version,
                "summary": summary,
                "depends": depends,
                "provides": provides,
                "requires": requires,
                "state": state,
                "enabled": state == "yes",
                "installed": installed.get(plugin.name),
                "distribution": f"{plugin.distribution} {plugin.distribution_version}",
                "error": plugin.error,
            }
        )
    return rows
