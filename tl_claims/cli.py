"""`tl-claims ...` (or `python -m tl_claims ...`): one entry point; each command lives in the module that owns its work.

A command module exposes `register(subparsers)`, which adds its parser and sets `handler` (a function taking the
parsed arguments and returning an exit code). A command that passes unknown arguments on (verify, to pytest) says
so with a `pytest_args` default. Errors a user can fix are printed as one line, never a traceback. TensorFlow's
start-up lines are filtered (tl_claims/core/quiet.py); `--version` and `docs` work without TensorFlow.
"""

import argparse
import importlib
import os
import sys

from tl_claims import __version__
from tl_claims.core.backend import configured_backend
from tl_claims.core.command_help import examples_epilog
from tl_claims.core.errors import HarnessError
from tl_claims.core.install_check import has_tensorflow, missing_tensorflow_message
from tl_claims.core.quiet import quiet_tensorflow

COMMAND_MODULES = [  # in the order --help lists them
    "tl_claims.verify",
    "tl_claims.results.report",
    "tl_claims.results.diff",
    "tl_claims.predict",
    "tl_claims.data.commands",
    "tl_claims.stats.simulation",
    "tl_claims.resources.docs_command",
]
WITHOUT_TENSORFLOW = {"docs": "tl_claims.resources.docs_command"}  # commands whose modules import no TensorFlow
EPILOG = examples_epilog(
    [
        "tl-claims verify                 # the lesson's verdicts on this CPU (in a checkout, as `make verify`)",
        "tl-claims report --html          # tables, figures and report.html from the recorded rows",
        "tl-claims diff old/ results/     # what changed between two runs",
        "tl-claims predict cat.jpg        # top-5 ImageNet classes, offline",
        "tl-claims COMMAND --help         # one command's options and examples",
        "python -m tl_claims --version      # the same command line, where tl-claims is not on the PATH",
        "make bench                       # the benchmarks: a checkout's, not in the installed package",
    ]
)


def build_parser(module_names: list[str] | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tl-claims",
        description="Check what a transfer-learning lesson claims against experiments, and report the results.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=version_line(), help="print the version and exit")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module_name in COMMAND_MODULES if module_names is None else module_names:
        importlib.import_module(module_name).register(subparsers)
    return parser


def version_line() -> str:
    return f"tl-claims {__version__}"


def parse(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace:
    """The parsed arguments; the ones no parser knows go to a command that passes them on, else they are an error."""
    args, unknown = parser.parse_known_args(argv)
    if hasattr(args, "pytest_args"):
        args.pytest_args = unknown
    elif unknown:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    return args


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--version"]:  # answered before any command module (and TensorFlow) is imported
        print(version_line())
        return 0
    quiet_tensorflow()
    command = next((arg for arg in argv if not arg.startswith("-")), None)
    if command in WITHOUT_TENSORFLOW:  # only its own module: no TensorFlow import
        args = parse(build_parser([WITHOUT_TENSORFLOW[command]]), argv)
    elif has_tensorflow() or configured_backend() != "tensorflow":  # KERAS_BACKEND=jax or torch: no TensorFlow needed
        args = parse(build_parser(), argv)
    elif {"-h", "--help"} & set(argv):
        args = parse(build_parser(list(WITHOUT_TENSORFLOW.values())), argv)
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
