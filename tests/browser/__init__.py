"""Headless-Chromium browser tests of the staff console (see conftest.py)."""
