"""The side-by-side bench: the child's timed training on the tiny backbone, and the pairing, table and file with
stand-in children (two real Lite0 children per setting are the bench itself, minutes)."""

import json
import sys

import pytest

from benchmarks.bench import side_by_side
from tl_claims.data import tf_pipeline
from tl_claims.recipe.scales import SCALES


def test_a_child_times_the_steady_epochs_of_the_stage2_set_up(tiny_backbone, shared_data_cache):
    scale = SCALES["smoke"].override(backbone=tiny_backbone)
    untuned = tf_pipeline.without_autotuning
    for autotuner in (True, False):
        timing = side_by_side.train_and_time(scale, shared_data_cache(), epochs=2, autotuner=autotuner)
        assert timing["wall_s"] > 0 and timing["cpu_s"] > 0
        assert timing["busy"] == pytest.approx(timing["cpu_s"] / timing["wall_s"])
    assert tf_pipeline.without_autotuning is untuned  # the autotuner child's stand-in does not outlive it


def stand_in(setting: str) -> list[str]:
    busy = 0.8 if setting == "autotuner on" else 1.0
    line = json.dumps({"wall_s": 10 / busy, "cpu_s": 10.0, "busy": busy})
    return [sys.executable, "-c", f"print('noise'); print({line!r})"]


def test_pairs_alternate_and_the_report_gives_the_ratio_of_pair_times(tmp_path):
    lines = []
    table = side_by_side.measure(2, stand_in, echo=lines.append)
    assert len(table) == 8 and list(table["setting"][:2]) == ["autotuner on"] * 2
    assert list(table["setting"][4:6]) == ["autotuner off"] * 2  # round 2 starts with the other setting
    assert lines[0] == "round 1, autotuner on: 0.80 busy, 0.80 busy"
    paths = side_by_side.write(table, {"machine": "test"}, tmp_path)
    text = paths["md"].read_text(encoding="utf-8")
    assert "autotuner on ÷ off = 1.25×" in text and "| autotuner off | 1.00 | 10.0 |" in text
    assert "| round | setting | worker | wall s | CPU s | busy |\n|---|---|---|---|---|---|\n" in text
    assert "| 1 | autotuner on | 1 | 12.5 | 10.0 | 0.80 |" in text
    assert paths["csv"].read_text(encoding="utf-8").count("\n") == 9


def test_a_failing_child_stops_the_bench_with_its_exit_status():
    with pytest.raises(RuntimeError, match="exit status 3"):
        side_by_side.run_pair([sys.executable, "-c", "raise SystemExit(3)"])
