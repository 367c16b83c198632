"""`python -m harness ...`: one entry point; each command lives in the module that owns its work.

A command module exposes `register(subparsers)`, which adds its parser and sets `handler` (a function taking the
parsed arguments and returning an exit code). Errors a user can fix are printed as one line, never a traceback.
"""

import argparse
import importlib
import os
import sys

from harness.errors import HarnessError

COMMAND_MODULES = ["harness.predict", "harness.data.commands", "harness.report", "harness.simulation"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m harness", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", required=True)
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
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
