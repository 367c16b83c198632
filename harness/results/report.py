"""`python -m harness report`: fold recorded rows into the tables, and regenerate a README's Results section when
asked to.

The section between the two markers below is rewritten from each scale's rows; nothing in it is typed by hand. The
README is written only when asked (`--readme PATH`, or the results folder of this checkout, as `make report` does),
never with less than it holds (no rows leaves it byte-identical), and the command says what it wrote.
"""

import argparse
import sys
import warnings
from pathlib import Path

import pandas as pd

from harness.core.command_help import add_command
from harness.core.errors import HarnessError
from harness.core.markdown import markdown_table
from harness.core.paths import REPO_ROOT
from harness.results import assembly, rowfile
from harness.results.tables import group_rows, grouped_markdown
from harness.stats import intervals

START, END = "<!-- results:start -->", "<!-- results:end -->"
SCALE_ORDER = ("cpu", "replicate", "gpu", "smoke")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(
        subparsers,
        "report",
        "Fold every recorded row into the results tables and figures, and regenerate a README's Results section.",
        [
            "tl-claims report                      # in a checkout: results/ and its README.md",
            "tl-claims report --html               # also results/<scale>/report.html",
            "tl-claims report --results-dir runs --readme notes/README.md",
        ],
    )
    parser.add_argument(
        "--results-dir", type=Path, default=Path("results"), help="folder of recorded rows (default: ./results)"
    )
    parser.add_argument(
        "--readme",
        type=Path,
        default=None,
        help="README whose Results section is regenerated (default: this checkout's README.md, only when "
        "--results-dir is this checkout's results folder)",
    )
    parser.add_argument(
        "--scales",
        nargs="+",
        default=["cpu", "replicate", "gpu"],
        help="scales shown in the README (default: cpu replicate gpu; smoke rows carry no verdicts)",
    )
    parser.add_argument("--html", action="store_true", help="also write results/<scale>/report.html (self-contained)")
    parser.add_argument(
        "--force", action="store_true", help="replace the README section even when it would then hold fewer rows"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    tables = assemble_all(args.results_dir)
    if not tables:
        where = args.results_dir.resolve()
        print(f"no rows under {where} (scales {', '.join(SCALE_ORDER)}); nothing assembled, no README touched")
        return 1
    for scale, table in tables.items():
        groups = len(group_rows(table.to_dict("records")))
        print(f"{scale}: {len(table)} rows in {groups} table(s) -> {args.results_dir / scale}/claims.csv | .md | .json")
        if args.html:
            from harness.results import html

            print(f"{scale}: HTML report -> {html.write(args.results_dir / scale, table)}")
    readme = readme_target(args.results_dir, args.readme)
    if readme is None:
        print(f"README not touched: {args.results_dir} is not this checkout's results folder (give --readme PATH)")
        return 0
    shown = {scale: table for scale, table in tables.items() if scale in args.scales}
    if not shown:
        print(f"README not touched: no rows for the scales shown there ({', '.join(args.scales)})")
        return 1
    print(update_readme(readme, results_section(shown), force=args.force))
    return 0


def assemble_all(results_dir: Path) -> dict[str, pd.DataFrame]:
    """Every scale's table; rows-file lines that are not rows are reported on stderr, one line each."""
    tables = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", rowfile.MalformedRowWarning)
        for scale in SCALE_ORDER:
            table = assembly.assemble(results_dir, scale)
            if table is not None:
                tables[scale] = table
    for warning in caught:
        print(f"warning: {warning.message}", file=sys.stderr)
    return tables


def readme_target(results_dir: Path, readme: Path | None) -> Path | None:
    """The README to regenerate: the one asked for, else this checkout's when the results are this checkout's."""
    if readme is not None:
        return readme
    if Path(results_dir).resolve() == (REPO_ROOT / "results").resolve() and (REPO_ROOT / "README.md").is_file():
        return REPO_ROOT / "README.md"
    return None


def results_section(tables: dict[str, pd.DataFrame]) -> str:
    parts = []
    for scale, table in tables.items():
        rows = table.to_dict("records")
        parts.append(
            f"### {scale} scale\n\n{provenance_summary(rows, table.attrs.get('environment', {}))}"
            f"\nInterval: {intervals.CHOSEN_METHOD}, 95 % (a row's `ci_method` says where it differs). `metric` is "
            "what the arms' means measure; each row's claim type and bound is its `rule`; `adjusted` is the verdict "
            "after Holm's adjustment over the primary rows (one per claim) of its table; exploratory and deterministic "
            "rows are not adjusted.\n\n"
            + replication_summary(table)
            + grouped_markdown(rows, table.attrs.get("skipped", []), heading="####")
        )
    return "\n".join(parts)


def replication_summary(table: pd.DataFrame) -> str:
    """Where a scale measured the same claims on several set-ups: one line per claim, a column per set-up."""
    replicated = table.attrs.get("replication")
    if replicated is None:
        return ""
    return (
        "#### Replication (data family × backbone)\n\n" + markdown_table(replicated) + "\n\n"
        "`replicated`: the same decided verdict on every set-up; `undecided`: no decided verdicts disagree but one "
        "is INCONCLUSIVE; `incomplete`: a set-up has no row yet.\n\n"
    )


def provenance_summary(rows: list[dict], environment: dict) -> str:
    """When, where, with what and at which commit the rows were measured, read from the rows' own provenance; rows
    recorded before rows carried it are described by the environment that assembled them, and say so."""
    stamped = [row for row in rows if isinstance(row.get("started_at"), str) and row["started_at"]]
    text = f"Measured at commit(s) {_measured_commits(rows)}."
    if stamped:
        start = min(str(row["started_at"]) for row in stamped)
        end = max(str(row["finished_at"]) for row in stamped)
        machines = sorted({_machine_text(_mapping(row.get("machine"))) for row in stamped})
        text += f" Measured {start} to {end} on {'; '.join(machines)}; {_versions_text(stamped)}."
    if len(stamped) < len(rows):
        versions = ", ".join(f"{name} {version}" for name, version in environment.get("versions", {}).items())
        text += (
            f" {len(rows) - len(stamped)} row(s) predate per-row provenance; the table was assembled "
            f"{environment.get('date', '')} on {environment.get('machine', '')}; {versions}."
        )
    return text


def _mapping(value: object) -> dict:
    """A row's dict field, or {} where the row predates it (a table fills missing fields with NaN)."""
    return value if isinstance(value, dict) else {}


def _machine_text(machine: dict) -> str:
    gpus = machine.get("gpus") or []
    return (
        f"{machine.get('machine', '?')}, {machine.get('cpus', '?')} CPU(s), {machine.get('system', '?')}, "
        f"Python {machine.get('python', '?')}" + (f", GPUs: {', '.join(gpus)}" if gpus else "")
    )


def _versions_text(rows: list[dict]) -> str:
    found: dict[str, set] = {}
    for row in rows:
        for name, version in _mapping(row.get("versions")).items():
            found.setdefault(name, set()).add(str(version))
    return ", ".join(f"{name} {' / '.join(sorted(versions))}" for name, versions in sorted(found.items()))


def _measured_commits(rows: list[dict]) -> str:
    """Rows carry the commit that measured them (and whether the checkout had uncommitted changes); older rows
    without one are counted as unrecorded."""
    commits = set()
    for row in rows:
        commit = row.get("git_commit")
        commit = commit if isinstance(commit, str) and commit else "unrecorded"
        commits.add(f"{commit} (uncommitted changes)" if row.get("git_dirty") is True else commit)
    return ", ".join(sorted(commits))


def table_row_count(section: str) -> int:
    """Result rows in a Markdown section: table lines that are neither a header nor a separator."""
    lines = [line for line in section.splitlines() if line.startswith("|")]
    return sum(1 for line in lines if not line.startswith(("| claim ", "|---")))


def update_readme(readme: Path, section: str, force: bool = False) -> str:
    """Rewrite the marked section, unless that would leave it with fewer rows (then the file stays as it is and a
    HarnessError says why); returns what was done."""
    if not Path(readme).is_file():
        raise HarnessError(f"no README at {Path(readme).resolve()}")
    text = readme.read_text(encoding="utf-8")
    if START not in text or END not in text:
        raise HarnessError(f"{readme} has no {START} ... {END} markers; add them where the Results section goes")
    head, rest = text.split(START, 1)
    old, tail = rest.split(END, 1)
    before, after = table_row_count(old), table_row_count(section)
    if after < before and not force:
        raise HarnessError(
            f"{readme}'s Results section holds {before} rows and these results {after}: left unchanged "
            "(a results folder with every scale it shows, or --force, replaces it)"
        )
    new = f"{head}{START}\n{section}{END}{tail}"
    if new == text:
        return f"{readme}: Results section already up to date ({after} rows)"
    rowfile.write_atomic(readme, new)
    return f"{readme}: Results section regenerated ({before} -> {after} rows)"
