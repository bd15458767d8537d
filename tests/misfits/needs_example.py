"""Depends on the installed example plugin."""

from totetaxi_core.plugins import Manifest

manifest = Manifest(name="needs_example", version="1.0", depends=("example",))


def includeme(config):
    pass
