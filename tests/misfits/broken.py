"""Fails at import time with a recognisable message."""

raise ValueError("misfit plugin broken exploded on purpose")
