"""Loads the tl-claims pytest plugin (tl_claims/plugin/hooks.py) and pytester for the plugin's own tests."""

pytest_plugins = ["tl_claims.plugin.hooks", "tl_claims.teaching.plugin", "pytester"]
