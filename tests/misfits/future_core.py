"""Needs a core version that does not exist yet."""

from totetaxi_core.plugins import Manifest

manifest = Manifest(name="future_core", version="1.0", core=">=99")


def includeme(config):
    pass
