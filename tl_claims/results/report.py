"""`tl-claims report`: fold recorded rows into the tables and figures under the results folder, and, only when
asked (`--readme`, `make readme`), publish them into this checkout's README.md and docs/results.md.

A run's report writes under the results folder only, so `make verify` never changes a tracked file. Publishing is
tl_claims.results.published: the rows are copied into docs/rows/, and the generated blocks are rebuilt from there.
"""

import argparse
import os
import sys
import warnings
from pathlib import Path

import pandas as pd

from tl_claims.core.command_help import add_command
from tl_claims.core.errors import HarnessError
from tl_claims.core.paths import REPO_ROOT
from tl_claims.results import assembly, published, rowfile
from tl_claims.results.tables import group_rows


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(
        subparsers,
        "report",
        "Fold every recorded row into the results tables and figures; with --readme, publish them into the README.",
        [
            "tl-claims report                      # results/<scale>/claims.{csv,md,json} and figures",
            "tl-claims report --html               # also results/<scale>/report.html (and report.png, with Chromium)",
            "tl-claims report --readme             # and publish: README.md, docs/results.md (make readme)",
            "tl-claims report --readme --results-dir /tmp/run   # publish another folder's rows",
        ],
    )
    parser.add_argument(
        "--results-dir", type=Path, default=Path("results"), help="folder of recorded rows (default: ./results)"
    )
    parser.add_argument(
        "--readme",
        action="store_true",
        help="publish the rows into this checkout: docs/rows/, docs/figures/, the README's table of primaries and "
        "docs/results.md (tracked files; nothing else writes them)",
    )
    parser.add_argument(
        "--scales",
        nargs="+",
        default=["cpu", "replicate", "gpu"],
        help="scales --readme publishes (default: cpu replicate gpu; smoke rows carry no verdicts)",
    )
    parser.add_argument(
        "--html",
        action="store_true",
        help="also write results/<scale>/report.html (self-contained) and, where Chromium is installed, "
        "its screenshot report.png",
    )
    parser.add_argument(
        "--force", action="store_true", help="with --readme: replace a scale's published rows even with fewer rows"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """1 where the results folder has no rows and nothing was asked of the checkout; with --readme the generated
    blocks are rebuilt from the published rows even then (after a change to how they are written)."""
    check_access(args.results_dir)
    try:
        tables = assemble_all(args.results_dir)
    except PermissionError as error:  # a file inside, after the folders passed: still one sentence, naming it
        raise HarnessError(f"{error.filename}: permission denied; {ACCESS_FIX}") from None
    if not tables:
        where = args.results_dir.resolve()
        print(f"no rows under {where} (scales {', '.join(published.SCALE_ORDER)}); nothing assembled")
    for scale, table in tables.items():
        groups = len(group_rows(table.to_dict("records")))
        print(f"{scale}: {len(table)} rows in {groups} table(s) -> {args.results_dir / scale}/claims.csv | .md | .json")
        if args.html:
            write_html(scale, args.results_dir / scale, table)
    if not args.readme:
        if tables:
            print("tracked files not touched: `tl-claims report --readme` (make readme) publishes these rows")
        return 0 if tables else 1
    scales = [scale for scale in tables if scale in args.scales]
    if not scales:
        print(f"no new rows for the scales published ({', '.join(args.scales)}): blocks rebuilt from docs/rows/")
    for line in published.publish(REPO_ROOT, args.results_dir, scales, force=args.force):
        print(line)
    return 0


ACCESS_FIX = (
    "the report reads the rows under --results-dir and writes its tables beside them: make the folder readable and "
    "writable by this user, or copy it somewhere you can write and pass --results-dir"
)


def check_access(results_dir: Path) -> None:
    """Before anything is read or written: the results folder can be read, and each scale folder in it read and
    written (the tables and figures go there); else one sentence that says which and why, never a bare
    PermissionError. The outer folder first: inside an unreadable one nothing else can be looked at."""
    scale_dirs = [results_dir / scale for scale in published.SCALE_ORDER]
    for folder in [results_dir, *scale_dirs]:
        if not folder.is_dir():
            continue
        if not os.access(folder, os.R_OK | os.X_OK):
            raise HarnessError(f"cannot read {folder} (permission denied); {ACCESS_FIX}")
        if folder != results_dir and not os.access(folder, os.W_OK):
            raise HarnessError(f"cannot write the tables into {folder} (read-only or permission denied); {ACCESS_FIX}")


def write_html(scale: str, scale_dir: Path, table: pd.DataFrame) -> None:
    """report.html, and its picture (report.png) where a Chromium is installed: the picture is a convenience, so a
    browser that is missing or fails is one line of output, never a failed report."""
    import subprocess

    from tl_claims.results import html

    page = html.write(scale_dir, table)
    print(f"{scale}: HTML report -> {page}")
    try:
        shot = html.screenshot(page)
    except (OSError, subprocess.SubprocessError) as error:
        print(f"{scale}: no screenshot: the browser failed ({type(error).__name__}: {error})")
        return
    if shot is None:
        print(f"{scale}: no screenshot: no Chromium on PATH ({', '.join(html.BROWSERS)})")
    else:
        print(f"{scale}: screenshot -> {shot}")


def assemble_all(results_dir: Path) -> dict[str, pd.DataFrame]:
    """Every scale's table; rows-file lines that are not rows are reported on stderr, one line each."""
    tables = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", rowfile.MalformedRowWarning)
        for scale in scales_with_rows(results_dir):
            table = assembly.assemble(results_dir, scale)
            if table is not None:
                tables[scale] = table
    for warning in caught:
        print(f"warning: {warning.message}", file=sys.stderr)
    return tables


def scales_with_rows(results_dir: Path) -> list[str]:
    """The known scales in their order, then any other folder of recorded runs (a dry run's `gpu_dry`)."""
    others = {runs.parent.name for runs in Path(results_dir).glob("*/runs")} - set(published.SCALE_ORDER)
    return [*published.SCALE_ORDER, *sorted(others)]
