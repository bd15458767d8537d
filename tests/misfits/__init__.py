"""Tiny plugin modules that are wrong on purpose, for the registry tests.

Each is loaded through an ``importlib.metadata.EntryPoint`` built by the test (none is installed),
named after its module unless a test says otherwise.
"""
