"""The plugin tests' project: this repository's pytest configuration with the claims plugin loaded."""

import shlex
import tomllib

import pytest

from tl_claims.core.paths import REPO_ROOT

REPOSITORY_INI = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]


@pytest.fixture
def plugin_pytester(pytester: pytest.Pytester) -> pytest.Pytester:
    """A project with the plugin and this repository's marker default (its addopts)."""
    pytester.makeconftest('pytest_plugins = ["tl_claims.plugin.hooks"]')
    markers = "".join(f"\n    {line}" for line in REPOSITORY_INI["markers"])
    pytester.makeini(f"[pytest]\naddopts = {shlex.join(REPOSITORY_INI['addopts'])}\nmarkers ={markers}\n")
    return pytester
