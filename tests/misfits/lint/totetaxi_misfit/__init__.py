"""A plugin package that breaks the import contracts on purpose (test_import_contracts.py).

It reaches past the plugin API into a core internal and imports another plugin; it is never
installed, only put on ``PYTHONPATH`` for ``lint-imports``.
"""

from totetaxi_pricing.catalog import CatalogCache  # another plugin

from totetaxi_core.bookings.lifecycle import TRANSITIONS  # a core internal: not the facade
from totetaxi_core.plugin_api import Manifest  # allowed

manifest = Manifest(name="misfit", version="1.0.0", summary="Imports what it must not")
__all__ = ["TRANSITIONS", "CatalogCache", "manifest", "prepare"]

# The test kit is for a plugin's tests, kept outside its package: not for its runtime code.
from totetaxi_core.testing.databases import prepare  # noqa: E402
