"""Depends on a plugin no distribution provides."""

from totetaxi_core.plugins import Manifest

manifest = Manifest(name="needs_missing", version="1.0", depends=("no_such_plugin",))


def includeme(config):
    pass
