"""Loads the tl-claims pytest plugin (harness/plugin/hooks.py) and pytester for the plugin's own tests."""

pytest_plugins = ["harness.plugin.hooks", "harness.teaching.plugin", "pytester"]
