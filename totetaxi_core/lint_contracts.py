"""A custom import-linter contract type, ``public_api``: "these packages import that package only
through X".

import-linter's built-in contracts say what may *not* be imported (``forbidden``) or who may
import something (``protected``); neither says "a plugin may import the core's public API and
nothing else of the core" without listing every internal of the core by hand, a list that would
silently go stale with the core's next new module. This contract is an allow-list instead: it
fails on every *direct* import, by a module of ``source_modules`` (or of their descendants), of a
module of ``package`` that is not one of ``allowed_modules`` (or their descendants). The facade
itself of course imports the core's internals. Broken imports are reported as
``importer -> imported (l.N)`` like the built-in contracts do; a source package that is not
importable is skipped.

The core never imports this module: import-linter (``grimp``, ``importlinter``) is part of the
``test`` extra only, and this module is loaded by ``lint-imports`` alone, through
``contract_types``. A plugin kept in a repository of its own (what ``totetaxi plugin new``
generates) holds itself to the facade with, in its ``pyproject.toml``:

.. code-block:: toml

    [tool.importlinter]
    root_packages = ["totetaxi_parcels", "totetaxi_core"]
    contract_types = ["public_api: totetaxi_core.lint_contracts.PublicApiContract"]

    [[tool.importlinter.contracts]]
    id = "plugin-uses-public-api"
    name = "totetaxi_parcels imports the core only through totetaxi_core.plugin_api"
    type = "public_api"
    source_modules = ["totetaxi_parcels"]           # who is checked (with descendants)
    package = "totetaxi_core"                       # whose internals are guarded
    allowed_modules = ["totetaxi_core.plugin_api"]  # what of it they may import (with descendants)

and runs ``lint-imports`` in an environment where both the plugin and ``totetaxi-core[test]``
are installed (grimp imports neither, but must find both).
"""

from __future__ import annotations

from dataclasses import dataclass

from grimp import ImportGraph
from importlinter import Contract, ContractCheck, fields, output


@dataclass(frozen=True)
class IllegalImport:
    importer: str
    imported: str
    line_numbers: tuple[int, ...]


def _within(module: str, packages: set[str]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


class PublicApiContract(Contract):
    """``source_modules`` import nothing of ``package`` but ``allowed_modules``."""

    type_name = "public_api"

    source_modules = fields.ListField(subfield=fields.ModuleField())
    package = fields.ModuleField()
    allowed_modules = fields.ListField(subfield=fields.ModuleField())
    broken_contract_guidance = fields.TextField(required=False)

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        guarded = self.package.name  # type: ignore[attr-defined]
        allowed = {m.name for m in self.allowed_modules}  # type: ignore[attr-defined]
        illegal: list[IllegalImport] = []
        for source in self.source_modules:  # type: ignore[attr-defined]
            if source.name not in graph.modules:
                continue  # a plugin that is not installed here has nothing to check
            importers = {source.name} | graph.find_descendants(source.name)
            for importer in sorted(importers):
                for imported in sorted(graph.find_modules_directly_imported_by(importer)):
                    if not _within(imported, {guarded}) or _within(imported, allowed):
                        continue
                    details = graph.get_import_details(importer=importer, imported=imported)
                    illegal.append(
                        IllegalImport(importer, imported, tuple(d["line_number"] for d in details))
                    )
        return ContractCheck(kept=not illegal, warnings=[], metadata={"illegal": illegal})

    def render_broken_contract(self, check: ContractCheck) -> None:
        output.print_error(
            f"Imports of {self.package.name} other than its public API:",  # type: ignore[attr-defined]
            bold=False,
        )
        output.new_line()
        for found in check.metadata["illegal"]:
            lines = ", ".join(map(str, found.line_numbers))
            output.print_error(f"- {found.importer} -> {found.imported} (l.{lines})", bold=False)
        output.new_line()
        if self.broken_contract_guidance:  # type: ignore[attr-defined]
            output.print(self.broken_contract_guidance)  # type: ignore[attr-defined]
