"""What a claim is stays light: importing `tl_claims.claims.base` (or the package) loads no TensorFlow, Keras or pandas,
so tools that only read claims and rules start in a moment."""

import subprocess
import sys

from tl_claims.core.paths import REPO_ROOT

HEAVY = ("tensorflow", "keras", "pandas")


def test_importing_the_claim_types_loads_no_heavy_library():
    code = f"import sys, tl_claims.claims.base; print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]", result.stderr
