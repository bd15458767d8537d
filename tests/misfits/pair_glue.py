"""Glue switched on automatically once both example and provider_one are."""

from totetaxi_core.plugins import Manifest

manifest = Manifest(
    name="pair_glue", version="1.0", depends=("example", "provider_one"), auto_install=True
)


def includeme(config):
    pass
