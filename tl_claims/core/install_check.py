"""Is TensorFlow here? tl-claims declares it only where TensorFlow publishes wheels; elsewhere it says so at first use.

TensorFlow publishes wheels for Linux x86_64 and aarch64, macOS on Apple silicon (arm64) and Windows x86_64. On any
other machine (an Intel Mac, Windows on ARM, ...) `pip install tl-claims` succeeds without TensorFlow, and the first
command that needs it stops with `missing_tensorflow_message()` instead of a traceback.
"""

from __future__ import annotations

import importlib.util
import platform

from tl_claims.core.errors import HarnessError

# (platform.system(), platform.machine()) pairs with TensorFlow wheels, as pyproject.toml's markers spell them
TENSORFLOW_PLATFORMS = {
    ("Linux", "x86_64"): "Linux x86_64",
    ("Linux", "aarch64"): "Linux aarch64",
    ("Darwin", "arm64"): "macOS arm64 (Apple silicon)",
    ("Windows", "AMD64"): "Windows x86_64",
}


class TensorFlowMissingError(HarnessError, ImportError):
    """TensorFlow cannot be imported; the message says why and what to do on this platform."""


def has_tensorflow() -> bool:
    """Whether `import tensorflow` can work here (a finder that refuses it counts as no TensorFlow)."""
    try:
        return importlib.util.find_spec("tensorflow") is not None
    except (ImportError, ValueError):
        return False


def missing_tensorflow_message(system: str | None = None, machine: str | None = None) -> str:
    """One paragraph for a machine without TensorFlow: `system`/`machine` default to this one."""
    system = system or platform.system()
    machine = machine or platform.machine()
    if (system, machine) in TENSORFLOW_PLATFORMS:
        return (
            "TensorFlow is not installed, and tl-claims needs it. Install it with "
            "`pip install 'tensorflow>=2.16,<3'` (or reinstall tl-claims without --no-deps)."
        )
    supported = ", ".join(TENSORFLOW_PLATFORMS.values())
    return (
        f"TensorFlow publishes no wheel for this machine ({system} {machine}), so pip installed tl-claims "
        f"without it, and tl-claims needs it. TensorFlow wheels exist for: {supported}. Run tl-claims in "
        "Google Colab (examples/colab/student_colab.ipynb) or on one of those platforms, or install a TensorFlow "
        "build for this machine yourself (for example from conda-forge) and try again."
    )


def require_tensorflow() -> None:
    """Raise `TensorFlowMissingError` with the message for this machine when TensorFlow cannot be imported."""
    if not has_tensorflow():
        raise TensorFlowMissingError(missing_tensorflow_message())
