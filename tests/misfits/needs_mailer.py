"""Requires the mailer slot (provider_one and provider_two provide it)."""

from totetaxi_core.plugins import Manifest

manifest = Manifest(name="needs_mailer", version="1.0", requires=("mailer",))


def includeme(config):
    pass
