"""Depends on cycle_a, which depends back on it."""

from totetaxi_core.plugins import Manifest

manifest = Manifest(name="cycle_b", version="1.0", depends=("cycle_a",))


def includeme(config):
    pass
