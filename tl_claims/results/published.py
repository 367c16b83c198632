"""What a checkout publishes from its runs, and the one command that writes it: `tl-claims report --readme`
(`make readme`).

A run writes only under results/, which git ignores. Publishing copies each scale's assembled rows into a tracked
file, draws that scale's deltas figure from them, and rebuilds two generated blocks from the tracked rows alone:

    docs/rows/<scale>.json            the rows, as the run's results/<scale>/claims.json holds them
    docs/figures/deltas-<scale>.png   Δ and its 95 % interval per claim, drawn from those rows
    README.md                         between the `primaries` markers: one line per claim's primary variant
    docs/results.md                   between the `results` markers: every table in full, with its provenance

So the README shows what a tracked file holds, and tests/test_published.py rebuilds both blocks from docs/rows/ and
fails when they differ: nothing between the markers is typed by hand. A scale's tracked rows are never replaced by
fewer rows (unless forced); a scale the results folder has no rows for keeps its tracked ones.
"""

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tl_claims.core.errors import HarnessError
from tl_claims.core.markdown import markdown_table
from tl_claims.results import assembly, figures, replication, rowfile
from tl_claims.results.tables import ci_text, configuration_title, group_rows, grouped_markdown
from tl_claims.stats import intervals

SCALE_ORDER = ("cpu", "replicate", "gpu", "smoke")
README_SCALES = ("cpu", "gpu")  # the replicate scale (14 rows on each of four set-ups) is docs/results.md's
ROWS_DIR = Path("docs/rows")
FIGURES_DIR = Path("docs/figures")
README = Path("README.md")
RESULTS_DOC = Path("docs/results.md")
PRIMARIES = ("<!-- primaries:start -->", "<!-- primaries:end -->")
RESULTS = ("<!-- results:start -->", "<!-- results:end -->")
NO_ROWS = "No rows are published yet: `make readme` publishes a results folder's tables here."
NO_README_ROWS = (
    "No cpu or gpu rows are published yet: `make verify` writes its tables under `results/cpu/`, and `make readme`\n"
    "publishes them here."
)


@dataclass(frozen=True)
class Published:
    """One scale's tracked rows, folded as its table shows them, with what its claims.json recorded beside them."""

    scale: str
    rows: list[dict]
    environment: dict
    skipped: list[dict]


def publish(root: Path, results_dir: Path, scales: Sequence[str], force: bool = False) -> list[str]:
    """Copy each scale's assembled rows (results_dir/<scale>/claims.json, which the report has just written) into
    docs/rows/, draw its figure, and rebuild both blocks from every tracked scale; returns what was done. Nothing is
    written when a scale would lose rows (a HarnessError says which) or a target file lacks its markers."""
    root = Path(root)
    for path, (markers, _) in expected_blocks([]).items():
        split_block(root / path, markers)
    incoming = {scale: Path(results_dir) / scale / "claims.json" for scale in scales}
    incoming = {scale: source for scale, source in incoming.items() if source.is_file()}
    refuse_fewer_rows(root, incoming, force)
    done = []
    for scale, source in incoming.items():
        target = root / ROWS_DIR / f"{scale}.json"
        before = len(tracked_rows(target))
        rowfile.write_atomic(target, source.read_text(encoding="utf-8"))
        rows = tracked_rows(target)
        figure = figures.plot_deltas(rows, root / FIGURES_DIR / f"deltas-{scale}.png")
        done.append(f"{scale}: {before} -> {len(rows)} rows published -> {target}, {figure}")
    for path, (markers, block) in expected_blocks(read_published(root)).items():
        done.append(write_block(root / path, markers, block))
    return done


def refuse_fewer_rows(root: Path, incoming: dict[str, Path], force: bool) -> None:
    """A scale's published rows are replaced only by at least as many (a results folder that ran one claim must not
    wipe the others from the README); `force` replaces them anyway."""
    for scale, source in incoming.items():
        target = Path(root) / ROWS_DIR / f"{scale}.json"
        before, after = len(tracked_rows(target)), len(tracked_rows(source))
        if after < before and not force:
            raise HarnessError(
                f"{target} holds {before} rows and {source} {after}: nothing published (a results folder with every "
                "row it holds, or --force, replaces them)"
            )


def tracked_rows(path: Path) -> list[dict]:
    """The rows of a claims.json as its table shows them; none where the file is absent."""
    return assembly.fold(rowfile.read_claims_json(path)) if Path(path).is_file() else []


def read_published(root: Path) -> list[Published]:
    """Every scale with tracked rows, in SCALE_ORDER."""
    published = []
    for scale in SCALE_ORDER:
        path = Path(root) / ROWS_DIR / f"{scale}.json"
        rows = tracked_rows(path)
        if rows:
            document = json.loads(path.read_text(encoding="utf-8"))
            environment = document.get("environment") if isinstance(document.get("environment"), dict) else {}
            published.append(Published(scale, rows, environment, list(document.get("skipped") or [])))
    return published


def expected_blocks(published: list[Published]) -> dict[Path, tuple[tuple[str, str], str]]:
    """Each generated file (relative to the checkout), its markers and the block its tracked rows give."""
    return {README: (PRIMARIES, primaries_block(published)), RESULTS_DOC: (RESULTS, results_block(published))}


def stale_blocks(root: Path) -> list[Path]:
    """The files whose generated block is not what the tracked rows give (tests/test_published.py wants none)."""
    blocks = expected_blocks(read_published(root)).items()
    return [path for path, (markers, block) in blocks if split_block(Path(root) / path, markers)[1] != block]


def split_block(path: Path, markers: tuple[str, str]) -> tuple[str, str, str]:
    """The text before the start marker, the block between the markers, the text after the end marker."""
    if not Path(path).is_file():
        raise HarnessError(f"no {Path(path).name} at {Path(path).resolve()}: `--readme` publishes into a checkout")
    text = Path(path).read_text(encoding="utf-8")
    start, end = markers
    if text.count(start) != 1 or text.count(end) != 1 or text.index(start) > text.index(end):
        raise HarnessError(f"{path} needs one {start} ... {end} pair where the generated block goes")
    head, rest = text.split(start)
    block, tail = rest.split(end)
    return head, block, tail


def write_block(path: Path, markers: tuple[str, str], block: str) -> str:
    head, old, tail = split_block(path, markers)
    if old == block:
        return f"{path}: generated block already up to date"
    rowfile.write_atomic(path, f"{head}{markers[0]}{block}{markers[1]}{tail}")
    return f"{path}: generated block rebuilt"


def primaries_block(published: list[Published]) -> str:
    """The README's block: per configuration of the cpu and gpu scales, one line per claim's primary variant (the
    lesson's statement, the verdict after Holm, Δ and its interval), then the scale's deltas figure."""
    parts = []
    for scale in (item for item in published if item.scale in README_SCALES):
        for group in group_rows(scale.rows).values():
            primary = [row for row in group if row.get("primary")]
            if primary:
                table = markdown_table([primary_line(row) for row in primary])
                parts.append(f"**{configuration_title(group)}**, {measured_when(group)}.\n\n{table}{unjudged(group)}\n")
        figure = (FIGURES_DIR / f"deltas-{scale.scale}.png").as_posix()
        parts.append(
            f"![Δ and its 95 % interval per claim and variant, {scale.scale} scale]({figure})\n\n"
            f"The figure shows every row of the {scale.scale} scale, exploratory variants too, coloured by the raw "
            f"verdict;\nevery table in full: [{RESULTS_DOC.as_posix()}]({RESULTS_DOC.as_posix()}).\n"
        )
    return "\n" + ("\n".join(parts) if parts else NO_README_ROWS + "\n")


def unjudged(rows: list[dict]) -> str:
    """A sentence naming the claims of a table with rows but no primary (the lesson announces them without a claim,
    so their rows are reported directions, not verdicts on the lesson); "" when every claim has one."""
    with_primary = {row["claim"] for row in rows if row.get("primary")}
    others = sorted({row["claim"] for row in rows} - with_primary)
    if not others:
        return ""
    names = ", ".join(f"`{claim}`" for claim in others)
    return (
        f"\n\nNo verdict on the lesson for {names}: the lesson only announces the topic, with no claim to test; the "
        "rows report a direction (exploratory rows, in the full table)."
    )


def primary_line(row: dict) -> dict:
    return {
        "claim": f"`{row['claim']}`",
        "the lesson says": row.get("statement", ""),
        "verdict (Holm)": verdict_text(row),
        "Δ [95 % CI]": delta_text(row),
    }


def verdict_text(row: dict) -> str:
    """The verdict after Holm's adjustment, with the raw one beside it where the adjustment changed it."""
    adjusted = row.get("adjusted") or row["verdict"]
    return adjusted if adjusted == row["verdict"] else f"{adjusted} (raw {row['verdict']})"


def delta_text(row: dict) -> str:
    """Δ in pp with its interval; a risk claim's quantity is the share of seeds that failed, not Δ."""
    interval = ci_text(row)
    if str(row.get("rule", "")).startswith("risk"):
        return interval
    delta = f"{float(row['delta']) * 100:+.1f} pp"
    return f"{delta} {interval}" if interval.startswith("[") else f"{delta}; {interval}"


def measured_when(rows: list[dict]) -> str:
    """`measured 2026-12-02` or `measured 2026-12-02 to 2026-12-03`, from the rows' own start and finish stamps."""
    stamps = [str(row[key]) for row in rows for key in ("started_at", "finished_at") if _text(row.get(key))]
    if not stamps:
        return "measurement dates not recorded"
    first, last = min(stamps)[:10], max(stamps)[:10]
    return f"measured {first}" if first == last else f"measured {first} to {last}"


def results_block(published: list[Published]) -> str:
    """docs/results.md's block: every published scale's tables in full, each under its provenance."""
    if not published:
        return "\n" + NO_ROWS + "\n"
    return "\n" + "\n".join(scale_section(scale) for scale in published)


def scale_section(scale: Published) -> str:
    figure = (FIGURES_DIR.relative_to("docs") / f"deltas-{scale.scale}.png").as_posix()
    return (
        f"## {scale.scale} scale\n\n{provenance_summary(scale.rows, scale.environment)}"
        f"\n{interval_line(scale.rows)} `metric` is "
        "what the arms' means measure; each row's claim type and bound is its `rule`; `adjusted` is the verdict "
        "after Holm's adjustment over the primary rows (one per claim) of its table; exploratory and deterministic "
        f"rows are not adjusted.\n\n![Δ and its 95 % interval per claim and variant, {scale.scale} scale]({figure})\n\n"
        + replication_summary(scale.rows)
        + grouped_markdown(scale.rows, scale.skipped, heading="###")
    )


def interval_line(rows: list[dict]) -> str:
    """The interval the rows were decided with, from their own `ci_method`: rows recorded under an earlier method
    keep it (a table can mix them until it is measured again), and the line says how many carry each."""
    methods = Counter(str(row.get("ci_method") or intervals.CHOSEN_METHOD).split(";")[0] for row in rows)
    if len(methods) <= 1:
        method = next(iter(methods), intervals.CHOSEN_METHOD)
        return f"Interval: {method}, 95 %."
    current = {intervals.VC_METHOD, intervals.SEED_ONLY_METHOD, intervals.BOOTSTRAP_METHOD}
    earlier = ", an earlier method: docs/statistics.md"
    listed = "; ".join(
        f"{method} — {count} row{'s' * (count != 1)}{'' if method in current else earlier}"
        for method, count in methods.most_common()
    )
    return f"Intervals, 95 %, as each row's `ci_method` records: {listed}."


def replication_summary(rows: list[dict]) -> str:
    """Where a scale measured the same claims on several set-ups: one line per claim, a column per set-up."""
    if not replication.several_setups(rows):
        return ""
    backends = replication.several_backends(rows)
    return (
        f"### Replication (data family × backbone{' × Keras backend' if backends else ''})\n\n"
        + markdown_table(replication.replication_table(rows))
        + "\n\n`replicated`: the same decided verdict on every set-up; `undecided`: no decided verdicts disagree but "
        "one is INCONCLUSIVE; `incomplete`: a set-up has no row yet."
        + (" `across backends`: the same words for each data family × backbone on every backend." if backends else "")
        + "\n\n"
    )


def provenance_summary(rows: list[dict], environment: dict) -> str:
    """When, where, with what and at which commit the rows were measured, read from the rows' own provenance; rows
    recorded before rows carried it are described by the environment that assembled them, and say so."""
    stamped = [row for row in rows if _text(row.get("started_at"))]
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


def _text(value: object) -> bool:
    return isinstance(value, str) and bool(value)


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
