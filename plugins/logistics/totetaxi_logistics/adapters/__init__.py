"""Providers of the ``dispatcher`` slot.

One plugin per module (entry points in setup.cfg).
"""
