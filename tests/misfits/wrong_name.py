"""Its manifest name differs from its entry point name."""

from totetaxi_core.plugins import Manifest

manifest = Manifest(name="right_name", version="1.0")


def includeme(config):
    pass
