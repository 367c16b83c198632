"""What the checkout publishes: the README's table of primaries and docs/results.md are exactly what the tracked
rows in docs/rows/ give, and each block is rebuilt from those rows alone."""

import math
import subprocess

import pytest
from test_row import make_row

from tl_claims.core.paths import REPO_ROOT
from tl_claims.results import assembly, published, rowfile
from tl_claims.stats import intervals


def test_the_checkouts_generated_blocks_are_what_its_tracked_rows_give():
    """Fails when a block was edited by hand, or rows or the code that writes the blocks changed without
    `make readme` (which rebuilds both from docs/rows/)."""
    stale = published.stale_blocks(REPO_ROOT)
    assert stale == [], f"{', '.join(map(str, stale))}: not what docs/rows/ gives; run `make readme`"
    for scale in published.read_published(REPO_ROOT):
        assert (REPO_ROOT / published.FIGURES_DIR / f"deltas-{scale.scale}.png").is_file()


def test_git_tracks_nothing_under_results():
    """Runs write results/ and `make clean` deletes it whole: a tracked file there would be overwritten or lost (the
    published rows live in docs/rows/, the published measurements in docs/bench/)."""
    if not (REPO_ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    listed = subprocess.run(["git", "ls-files", "results"], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    assert listed.stdout == ""


def make_checkout(root):
    (root / "docs").mkdir(parents=True)
    (root / "README.md").write_text("# t\n<!-- primaries:start -->\n<!-- primaries:end -->\n")
    (root / "docs" / "results.md").write_text("# r\n<!-- results:start -->\n<!-- results:end -->\n")
    return root


def publish_rows(tmp_path, root, scale, rows, force=False) -> list[str]:
    results = tmp_path / f"results-{scale}-{len(rows)}"
    for row in rows:
        rowfile.append_row(results, row)
    assembly.assemble(results, scale)
    return published.publish(root, results, [scale], force=force)


def test_a_hand_edit_between_the_markers_is_found(tmp_path):
    root = make_checkout(tmp_path / "checkout")
    publish_rows(tmp_path, root, "cpu", [make_row(scale_name="cpu")])
    assert published.stale_blocks(root) == []
    readme = root / "README.md"
    readme.write_text(readme.read_text().replace("CONFIRMED", "REFUTED"))
    assert published.stale_blocks(root) == [published.README]


def test_without_published_rows_both_blocks_say_how_to_publish(tmp_path):
    root = make_checkout(tmp_path / "checkout")
    assert published.stale_blocks(root) == [published.README, published.RESULTS_DOC]
    for path, (markers, block) in published.expected_blocks([]).items():
        published.write_block(root / path, markers, block)
    assert published.stale_blocks(root) == []
    assert "`make readme`\npublishes them here" in (root / "README.md").read_text()


def test_a_scale_the_results_folder_lacks_keeps_its_published_rows(tmp_path):
    root = make_checkout(tmp_path / "checkout")
    publish_rows(tmp_path, root, "cpu", [make_row(claim="a", scale_name="cpu")])
    cpu = (root / "docs" / "rows" / "cpu.json").read_bytes()
    replicate = [make_row(claim="a", scale_name="replicate", dataset=name) for name in ("d1", "d2")]
    publish_rows(tmp_path, root, "replicate", replicate)
    assert (root / "docs" / "rows" / "cpu.json").read_bytes() == cpu
    assert [scale.scale for scale in published.read_published(root)] == ["cpu", "replicate"]
    readme, results = (root / "README.md").read_text(), (root / "docs" / "results.md").read_text()
    assert "replicate ·" not in readme and "deltas-cpu.png" in readme  # replicate is docs/results.md's
    assert "### Replication (data family × backbone)" in results and "figures/deltas-replicate.png" in results


def test_the_readme_shows_one_line_per_primary_under_its_configuration(tmp_path):
    root = make_checkout(tmp_path / "checkout")
    rows = [
        make_row(claim="a", scale_name="cpu", statement="A holds.", started_at="2026-12-02T10:00:00+00:00"),
        make_row(claim="a", variant="w", scale_name="cpu", primary=False),
        make_row(claim="b", scale_name="cpu", seeds=10, statement="B holds."),
        make_row(claim="c", scale_name="cpu", n_train=8, statement="C holds."),
    ]
    publish_rows(tmp_path, root, "cpu", rows)
    block = published.split_block(root / "README.md", published.PRIMARIES)[1]
    # b ran more seeds than a: still one table (one family); c ran another training size: another table.
    assert "**cpu · b · d · 32 px · 4 per class · 3–10 seeds**, measured 2026-01-01 to 2026-12-02." in block
    assert "| `a` | A holds. |" in block and "| w |" not in block and "`w`" not in block
    assert "**cpu · b · d · 32 px · 8 per class · 3 seeds**, measured 2026-01-01." in block
    assert "No verdict on the lesson" not in block  # every claim of these tables has its primary


def test_a_claim_with_rows_but_no_primary_is_named_under_its_table(tmp_path):
    root = make_checkout(tmp_path / "checkout")
    rows = [
        make_row(claim="a", scale_name="cpu", statement="A holds."),
        make_row(claim="announced", variant="x", scale_name="cpu", primary=False),
        make_row(claim="announced", variant="y", scale_name="cpu", primary=False),
    ]
    publish_rows(tmp_path, root, "cpu", rows)
    block = published.split_block(root / "README.md", published.PRIMARIES)[1]
    assert "| `a` | A holds. |" in block and "| `announced` |" not in block
    assert block.count("No verdict on the lesson for `announced`: the lesson only announces the topic") == 1


@pytest.mark.parametrize(
    ("fields", "verdict", "delta"),
    [
        ({}, "CONFIRMED", "+10.0 pp [+5.0, +15.0]"),
        ({"adjusted": "INCONCLUSIVE"}, "INCONCLUSIVE (raw CONFIRMED)", "+10.0 pp [+5.0, +15.0]"),
        ({"confidence": None}, "CONFIRMED", "+10.0 pp; exact (no interval)"),
        (
            {"rule": "risk P(x) > 20%", "estimate": 1.0, "ci_low": 0.48, "ci_high": 1.0},
            "CONFIRMED",
            "share 1.00 [0.48, 1.00]",
        ),
        ({"ci_low": math.inf, "ci_high": math.inf}, "CONFIRMED", "+10.0 pp; n/a (1 seed)"),
    ],
    ids=["interval", "changed by Holm", "exact", "risk", "one seed"],
)
def test_a_primary_line_gives_the_verdict_after_holm_and_delta_with_its_interval(fields, verdict, delta):
    row = {"claim": "c", "verdict": "CONFIRMED", "delta": 0.1, "ci_low": 0.05, "ci_high": 0.15, **fields}
    line = published.primary_line(row)
    assert (line["verdict (Holm)"], line["Δ [95 % CI]"]) == (verdict, delta)


def test_rows_with_provenance_say_when_where_and_with_what():
    stamped = {
        "started_at": "2026-12-02T10:00:00+00:00",
        "finished_at": "2026-12-02T10:05:00+00:00",
        "versions": {"keras": "3.15.1"},
        "machine": {"machine": "x86_64", "cpus": 2, "system": "Linux", "python": "3.11.7", "gpus": []},
        "git_commit": "abc1234",
        "git_dirty": True,
    }
    summary = published.provenance_summary([stamped], {})
    assert "Measured 2026-12-02T10:00:00+00:00 to 2026-12-02T10:05:00+00:00 on x86_64, 2 CPU(s), Linux" in summary
    assert "keras 3.15.1" in summary and "abc1234 (uncommitted changes)" in summary
    assert "predate per-row provenance" not in summary


def test_rows_with_and_without_provenance_in_one_table_are_summarised():
    """A table mixing older rows (no provenance) and stamped rows names both."""
    stamped = {
        "started_at": "2026-12-02T15:00:00+00:00",
        "finished_at": "2026-12-02T15:10:00+00:00",
        "machine": {"machine": "x86_64", "cpus": 2},
        "versions": {"keras": "3"},
        "git_commit": "abc",
    }
    older = {"started_at": float("nan"), "machine": float("nan"), "versions": float("nan"), "git_commit": "def"}
    text = published.provenance_summary([stamped, older], {"date": "today", "machine": "m", "versions": {}})
    assert "x86_64, 2 CPU(s)" in text and "keras 3" in text and "1 row(s) predate per-row provenance" in text


def test_the_replication_summary_is_an_escaped_table_then_its_legend():
    rows = [
        {"claim": "a|b", "variant": "v", "dataset": name, "backbone": "x", "verdict": "CONFIRMED", "delta": 0.01}
        for name in ("d1", "d2")
    ]
    text = published.replication_summary(rows)
    assert "| claim | variant | d1 × x | d2 × x | replicated |\n|---|---|---|---|---|\n| a\\|b | v |" in text
    assert "| replicated |\n\n`replicated`:" in text
    assert published.replication_summary(rows[:1]) == ""


def test_the_interval_line_names_what_the_rows_were_decided_with():
    """A table measured before the interval changed says so, row counts and all; a table of one method names it."""
    current, earlier = intervals.VC_METHOD, "an older interval (Satterthwaite df)"
    same = published.interval_line([{"ci_method": current}, {"ci_method": current + "; no variation observed"}])
    assert same == f"Interval: {current}, 95 %."
    mixed = published.interval_line([{"ci_method": earlier}] * 2 + [{"ci_method": current}])
    assert mixed.startswith("Intervals, 95 %") and "— 2 rows, an earlier method" in mixed
    assert f"{current} — 1 row;" in mixed or mixed.endswith(f"{current} — 1 row.")
