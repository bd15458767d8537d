"""One provider of the mailer slot."""

from totetaxi_core.plugins import Manifest

manifest = Manifest(name="provider_one", version="1.0", provides=("mailer",))


def includeme(config):
    pass
