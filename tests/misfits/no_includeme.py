"""Has a manifest but no includeme."""

from totetaxi_core.plugins import Manifest

manifest = Manifest(name="no_includeme", version="1.0")
