"""The verification bench's code paths at smoke scale on the tiny backbone: naive vs suite, pipeline vs in-memory,
the profile, and the columns of the files they write (benchmarks/bench/verify.py, benchmarks/bench/profile.py)."""

import csv
import math

from benchmarks.bench import profile, verify
from tl_claims.recipe.scales import SCALES


def read_rows(path) -> tuple[list[str], list[dict]]:
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def test_bench_writes_both_comparisons_and_the_profile(tiny_backbone, shared_data_cache, tmp_path, monkeypatch):
    """One bench run on a stage-2 claim variant (stage 1 and stage 2 both trained), one timed epoch per feed."""
    monkeypatch.setattr(verify, "fresh_cache_dir", lambda root, name: shared_data_cache())
    scale = SCALES["smoke"].override(backbone=tiny_backbone)
    argv = ["--claims", "two_stage", "--pipeline-repetitions", "1", "--results-dir", str(tmp_path)]
    files = verify.main(argv, scale=scale, echo=lambda message: None)

    header, rows = read_rows(files["csv"])
    assert header == list(verify.FIELDS)
    ways = {(row["section"], row["way"]) for row in rows}
    assert {("naive_vs_suite", verify.SUITE), ("naive_vs_suite", verify.NAIVE)} <= ways
    assert {("pipeline", verify.PIPELINE), ("pipeline", verify.IN_MEMORY), ("pipeline", verify.PIPELINE_ALONE)} <= ways
    ratios = [float(row["ratio"]) for row in rows if row["ratio"]]
    assert len(ratios) == 2 and all(math.isfinite(value) and value > 0 for value in ratios)
    naive = [row["note"] for row in rows if row["way"] == verify.NAIVE and row["item"] != "total"]
    assert naive and all("stage1" in note and "stage2" in note for note in naive)  # nothing shared with the suite
    markdown = files["markdown"].read_text(encoding="utf-8")
    assert "naive / suite" in markdown and "in-memory / pipeline" in markdown

    header, rows = read_rows(files["profile_csv"])
    assert header == list(profile.FIELDS)
    assert {"training: compute", "evaluation"} <= {row["category"] for row in rows} <= set(profile.CATEGORIES)
    assert "## Per claim and arm" in files["profile_markdown"].read_text(encoding="utf-8")


def test_fit_split_into_tracing_compute_and_setup():
    parts = profile.split_fit(12.0, [5.0, 2.0, 2.5, 2.0])
    assert parts == {"training: tracing": 3.0, "training: compute": 8.5, "training: setup": 0.5}
    assert profile.split_fit(1.0, [0.8])["training: tracing"] == 0.0


def test_recipe_kind_reads_the_most_expensive_recipe():
    assert verify.recipe_kind(["stage1", "scratch", "stage2"]) == "scratch"
    assert verify.recipe_kind(["stage1", "stage2_without_recompile"]) == "stage-2"
    assert verify.recipe_kind(["stage1_batch_augmented"]) == "stage-1"
    assert verify.recipe_kind([]) == "evaluation only"


def test_render_only_adds_findings_without_measuring(tmp_path):
    run = verify.BenchRun(
        {"scale": "smoke", "versions": {"keras": "3.15.1"}},
        [
            verify.VariantTiming("c", "v", way, seconds, 0.5, 0.6, ("stage1",))
            for way, seconds in (("suite", 1.0), ("naive", 4.0))
        ],
        [verify.FeedTiming(verify.PIPELINE, (2.0, 2.2), 1000), verify.FeedTiming(verify.IN_MEMORY, (1.9, 2.1), 1000)],
    )
    verify.write_report(run, tmp_path / "bench")
    findings = tmp_path / "findings.md"
    findings.write_text("The pipeline keeps up.", encoding="utf-8")
    paths = verify.main(["--render-only", "--results-dir", str(tmp_path), "--findings", str(findings)])
    markdown = paths["markdown"].read_text(encoding="utf-8")
    assert "naive / suite = 4.00×" in markdown and "The pipeline keeps up." in markdown
    assert "in-memory / pipeline = 0.95" in markdown
    assert "| tf.data pipeline | 2.10 | 2.00 | 2.20 | 2 | 476 [455–500] |" in markdown  # images/s: median [slow–fast]
    assert "| library | version |\n|---|---|\n| keras | 3.15.1 |" in markdown


def test_the_profile_tables_give_seconds_to_one_place_and_a_total_row():
    rows = [
        profile.ProfileRow("suite", "c", "v", "arm", 0, "data", "lab.load_splits", 1.26),
        profile.ProfileRow("suite", "c", "v", "arm", 0, "evaluation", "evaluation.evaluate", 0.5),
    ]
    text = profile.to_markdown(rows, {})
    assert "| category | suite s | suite % |\n|---|---|---|\n| data | 1.3 | 71.6 |" in text
    assert "| **all** |  |  | 1.8 | 1.3 | 0.0 |" in text
    assert "| stage | category | seconds |\n|---|---|---|\n| lab.load_splits | data | 1.3 |" in text
