"""The Onfleet provider of the ``dispatcher`` slot (Onfleet's REST API v2)."""

from totetaxi_logistics.adapters.onfleet.client import OnfleetDispatcher

__all__ = ["OnfleetDispatcher"]
