"""Fails at import time: it imports a module that is not installed."""

import totetaxi_no_such_module_anywhere  # noqa: F401
