"""tests/install/ runs only when asked for (`make test-install`, `pytest -m install`): it needs the index, minutes.
The default `-m "not ... install"` in pyproject.toml's addopts keeps it out of the fast suite."""

import subprocess
import sys
import time
from pathlib import Path

import pytest

from tl_claims.core.paths import REPO_ROOT


@pytest.fixture(scope="session")
def wheel(tmp_path_factory) -> Path:
    """The wheel `pip wheel . --no-deps` builds from this checkout."""
    folder = tmp_path_factory.mktemp("dist")
    started = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(folder), str(REPO_ROOT)],
        check=True,
        capture_output=True,
    )
    print(f"pip wheel . --no-deps: {time.monotonic() - started:.0f} s")
    (built,) = folder.glob("tl_claims-*.whl")
    return built
