"""Bottom of a dependency chain."""

from totetaxi_core.plugins import Manifest

manifest = Manifest(name="chain_a", version="1.0")


def includeme(config):
    pass
