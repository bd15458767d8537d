"""Declares a core specifier that is not a specifier."""

from totetaxi_core.plugins import Manifest

manifest = Manifest(name="bad_core_spec", version="1.0", core="one point oh")


def includeme(config):
    pass
