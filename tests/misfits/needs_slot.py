"""Requires a slot no plugin provides."""

from totetaxi_core.plugins import Manifest

manifest = Manifest(name="needs_slot", version="1.0", requires=("teleporter",))


def includeme(config):
    pass
