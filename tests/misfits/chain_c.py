"""Top of a dependency chain."""

from totetaxi_core.plugins import Manifest

manifest = Manifest(name="chain_c", version="1.0", depends=("chain_b",))


def includeme(config):
    pass
