"""The core's version; plugins' ``core`` specifiers are checked against it."""

from importlib import metadata

try:
    __version__ = metadata.version("totetaxi-core")
except metadata.PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "1.0.0"
