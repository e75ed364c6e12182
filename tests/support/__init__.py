"""Helpers the tests share (data writers, trained runs, the loopback Hub server): plain modules, not
tests. ``tests/conftest.py`` turns what needs set-up and tear-down into fixtures; tests import the
rest from here, never from one another."""
