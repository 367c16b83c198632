"""`python -m harness ...`: one entry point; each command lives in the module that owns its work.

A command module exposes `register(subparsers)`, which adds its parser and sets `handler` (a function taking the
parsed arguments and returning an exit code). Errors a user can fix are printed as one line, never a traceback.
TensorFlow's start-up lines are filtered (harness/core/quiet.py); `--version` and `docs` work without TensorFlow.
"""

import argparse
import importlib
import os
import sys

from harness import __version__
from harness.core.errors import HarnessError
from harness.core.install_check import has_tensorflow, missing_tensorflow_message
from harness.core.quiet import quiet_tensorflow

COMMAND_MODULES = [
    "harness.predict",
    "harness.data.commands",
    "harness.results.report",
    "harness.results.diff",
    "harness.stats.simulation",
    "harness.resources.docs_command",
]
WITHOUT_TENSORFLOW = {"docs": "harness.resources.docs_command"}  # commands whose modules import no TensorFlow


def build_parser(module_names: list[str] | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m harness", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=version_line())
    subparsers = parser.add_subparsers(dest="command", required=True)
    for module_name in COMMAND_MODULES if module_names is None else module_names:
        importlib.import_module(module_name).register(subparsers)
    return parser


def version_line() -> str:
    return f"tl-claims {__version__}"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--version"]:  # answered before any command module (and TensorFlow) is imported
        print(version_line())
        return 0
    quiet_tensorflow()
    command = next((arg for arg in argv if not arg.startswith("-")), None)
    if command in WITHOUT_TENSORFLOW:  # only its own module: no TensorFlow import
        args = build_parser([WITHOUT_TENSORFLOW[command]]).parse_args(argv)
    elif has_tensorflow():
        args = build_parser().parse_args(argv)
    elif {"-h", "--help"} & set(argv):
        args = build_parser(list(WITHOUT_TENSORFLOW.values())).parse_args(argv)
    else:
        print(f"error: {missing_tensorflow_message()}", file=sys.stderr)
        return 2
    try:
        return args.handler(args)
    except HarnessError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except Exception as error:  # the user gets one line; TL_CLAIMS_DEBUG=1 shows the traceback
        if os.environ.get("TL_CLAIMS_DEBUG"):
            raise
        hint = "TL_CLAIMS_DEBUG=1 shows the traceback"
        print(f"internal error: {type(error).__name__}: {error} ({hint})", file=sys.stderr)
        return 3
