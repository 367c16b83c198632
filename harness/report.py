"""`python -m harness report`: fold recorded rows into the tables and regenerate the README's Results section.

The section between the two markers below is rewritten from each scale's claims.json; nothing in it is typed by
hand, so the README always shows what was last measured, with date, machine and versions.
"""

import argparse
from pathlib import Path

import pandas as pd

from harness import results, stats
from harness.errors import HarnessError
from harness.paths import REPO_ROOT

START, END = "<!-- results:start -->", "<!-- results:end -->"
SCALE_ORDER = ("cpu", "gpu", "smoke")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("report", help="assemble the results tables and regenerate the README section")
    parser.add_argument("--results-dir", type=Path, default=Path("results"))
    parser.add_argument(
        "--readme",
        type=Path,
        default=REPO_ROOT / "README.md",
        help="README whose Results section is regenerated (default: the repository's)",
    )
    parser.add_argument(
        "--scales",
        nargs="+",
        default=["cpu", "gpu"],
        help="scales shown in the README (default: cpu gpu; smoke rows carry no verdicts)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    tables = {}
    for scale in SCALE_ORDER:
        table = results.assemble(args.results_dir, scale)
        if table is not None and scale in args.scales:
            tables[scale] = table
    update_readme(args.readme, results_section(tables))
    shown = ", ".join(tables) or "none yet"
    print(f"tables under {args.results_dir}/<scale>/; README Results section regenerated (scales: {shown})")
    return 0


def results_section(tables: dict[str, pd.DataFrame]) -> str:
    if not tables:
        return "No results recorded yet: run `make verify`.\n"
    parts = []
    for scale, table in tables.items():
        env = table.attrs["environment"]
        versions = ", ".join(f"{name} {version}" for name, version in env["versions"].items())
        parts.append(
            f"### {scale} scale\n\nMeasured {env['date']} on {env['machine']}"
            f"{'; GPUs: ' + ', '.join(env['gpus']) if env['gpus'] else ''}; {versions}; "
            f"measured at commit(s) {_measured_commits(table)}."
            f"\nInterval: {stats.CHOSEN_METHOD}, 95 % (a row's `ci_method` says where it differs). Each row's "
            "claim type is its `rule`; `adjusted` is the verdict after Holm's adjustment over the primary rows (one "
            "per claim); exploratory and deterministic rows are not adjusted.\n\n" + results.to_markdown(table)
        )
    return "\n".join(parts)


def _measured_commits(table: pd.DataFrame) -> str:
    """Rows carry the commit that measured them; older rows without one are counted as unrecorded."""
    recorded = table.get("git_commit", [])
    commits = sorted({commit if isinstance(commit, str) and commit else "unrecorded" for commit in recorded})
    return ", ".join(commits)


def update_readme(readme: Path, section: str) -> None:
    text = readme.read_text(encoding="utf-8")
    if START not in text or END not in text:
        raise HarnessError(f"{readme} has no {START} ... {END} markers; add them where the Results section goes")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    readme.write_text(f"{head}{START}\n{section}{END}{tail}", encoding="utf-8")
