"""Loads the tl-claims pytest plugin; everything it does lives in harness/plugin.py."""

pytest_plugins = ["harness.plugin"]
