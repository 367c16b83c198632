"""`python -m tl_claims docs`: the documents that ship with the package, for readers without the repository.

python -m tl_claims docs contract            # the student contract (what the teaching messages point at)
python -m tl_claims docs contract --lang es  # in Spanish, the lesson's language
python -m tl_claims docs contract --path     # where the installed file lives
"""

from __future__ import annotations

import argparse
import sys

from tl_claims.resources import DOCS, DOCS_LANGUAGES, read_text, resource


def run(args: argparse.Namespace) -> int:
    name = DOCS[args.document][args.lang]
    if args.path:
        print(resource(name))
    else:
        sys.stdout.write(read_text(name))
    return 0


def register(subparsers) -> None:
    # resources shares the lowest layer with core, so it spells out what core.command_help.add_command does
    parser = subparsers.add_parser(
        "docs",
        help="Print a document that ships with tl-claims, offline",
        description="Print a document that ships with tl-claims, offline.",
        epilog="examples:\n"
        "  tl-claims docs contract            # the student contract\n"
        "  tl-claims docs contract --lang es  # in Spanish\n"
        "  tl-claims docs contract --path     # where the installed file lives",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("document", choices=sorted(DOCS), help="contract: the student contract")
    parser.add_argument("--lang", choices=DOCS_LANGUAGES, default="en", help="its language (default: en)")
    parser.add_argument("--path", action="store_true", help="print the installed file's path instead")
    parser.set_defaults(handler=run)
