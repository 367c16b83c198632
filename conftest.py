"""Loads the tl-claims pytest plugin (harness/plugin.py) and pytester for the plugin's own tests."""

pytest_plugins = ["harness.plugin", "harness.teaching.plugin", "pytester"]
