"""Depends on a plugin that fails to import."""

from totetaxi_core.plugins import Manifest

manifest = Manifest(name="needs_broken", version="1.0", depends=("broken",))


def includeme(config):
    pass
