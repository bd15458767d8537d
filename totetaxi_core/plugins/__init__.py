"""The plugin contract: manifests, discovery, resolution. See ``docs/plugin-guide.md``."""

from .manifest import Manifest, SeedFunction
from .registry import ENTRY_POINT_GROUP, Plugin, PluginSet, discover, load_entry_point

__all__ = [
    "ENTRY_POINT_GROUP",
    "Manifest",
    "Plugin",
    "PluginSet",
    "SeedFunction",
    "discover",
    "load_entry_point",
]
