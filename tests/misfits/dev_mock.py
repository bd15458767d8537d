"""A mock adapter: development only."""

from totetaxi_core.plugins import Manifest

manifest = Manifest(name="dev_mock", version="1.0", provides=("mock_slot",), development_only=True)


def includeme(config):
    pass
