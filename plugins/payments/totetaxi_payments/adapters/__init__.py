"""Providers of the ``payment_gateway`` slot: ``mock`` (development) and ``stripe``."""
