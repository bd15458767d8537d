"""Depends on cycle_b, which depends back on it."""

from totetaxi_core.plugins import Manifest

manifest = Manifest(name="cycle_a", version="1.0", depends=("cycle_b",))


def includeme(config):
    pass
