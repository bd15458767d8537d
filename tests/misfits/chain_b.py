"""Middle of a dependency chain."""

from totetaxi_core.plugins import Manifest

manifest = Manifest(name="chain_b", version="1.0", depends=("chain_a",))


def includeme(config):
    pass
