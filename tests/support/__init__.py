"""Helpers shared by this repository's test modules (no tests here).

Test modules import from here, never from each other: ``support.bookings`` (the bookings app,
clock and request helpers), ``support.console`` (console sign-in and page helpers),
``support.payments`` / ``support.notifications`` (the apps and helpers of those plugins' tests),
``support.stripe_stub`` / ``support.sns_stub`` (local stand-ins for Stripe and SNS/SES).
Importable by name because pytest puts ``tests/`` on ``sys.path`` for its rootdir conftest.
Generic helpers live in the test kit, :mod:`totetaxi_core.testing`.
"""
