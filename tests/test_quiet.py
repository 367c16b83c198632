"""Quiet start-up: TensorFlow's import-time C++ lines are filtered, unless the user sets TF_CPP_MIN_LOG_LEVEL."""

import os
import subprocess
import sys

import pytest

from tl_claims.core.quiet import ABSL_PREINIT, filter_log_lines

NOISE = (
    f"{ABSL_PREINIT}\n"
    "I0000 00:00:1796212923.600095   14057 port.cc:153] oneDNN custom operations are on. You may see ...\n"
    "I0000 00:00:1796212923.889943   14057 cpu_feature_guard.cc:227] This TensorFlow binary is optimized ...\n"
    "To enable the following instructions: AVX2 FMA, in other operations, rebuild TensorFlow.\n"
    "W0000 00:00:1796212923.900000   14057 gpu_device.cc:2344] Cannot dlopen some GPU libraries.\n"
    "E0000 00:00:1796212924.000000   14057 cuda_dnn.cc:8579] Unable to register cuDNN factory\n"
    "a line from someone else\n"
)


@pytest.mark.parametrize(
    ("level", "kept"),
    [
        (2, ["E0000", "a line from someone else"]),
        (1, ["W0000", "E0000", "a line from someone else"]),
        (0, [ABSL_PREINIT, "I0000", "I0000", "To enable", "W0000", "E0000", "a line from someone else"]),
    ],
)
def test_filter_drops_records_below_the_level_with_their_continuation_lines(level, kept):
    lines = filter_log_lines(NOISE, level).splitlines()
    assert [line for line in lines if any(line.startswith(prefix) for prefix in kept)] == lines
    assert len(lines) == len(kept)


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"} | env
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environment, check=True)


IMPORT_QUIETLY = (
    "from tl_claims.core.quiet import quiet_tensorflow; quiet_tensorflow(); import keras, tensorflow; print('ok')"
)


def test_tensorflow_imports_without_a_line_on_stderr():
    result = run_python(IMPORT_QUIETLY)
    assert result.stdout == "ok\n" and result.stderr == ""


def test_the_lines_come_back_when_asked_for():
    result = run_python(IMPORT_QUIETLY, TF_CPP_MIN_LOG_LEVEL="0")
    assert "oneDNN custom operations" in result.stderr


def test_importing_harness_changes_nothing():
    result = run_python(
        "import os, sys, tl_claims.teaching.plugin; "
        "print(os.environ.get('TF_CPP_MIN_LOG_LEVEL'), type(sys.meta_path[0]).__name__)"
    )
    assert not result.stdout.startswith("2") and "Quiet" not in result.stdout
