"""Declares a setting outside its own prefix."""

from totetaxi_core.plugins import Manifest
from totetaxi_core.settings import Setting

manifest = Manifest(name="outside_prefix", version="1.0", settings=(Setting("elsewhere.key", "x"),))


def includeme(config):
    pass
