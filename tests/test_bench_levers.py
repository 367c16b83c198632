"""The levers bench: the alternation, the summary's presets and the file, with stand-in children (a real Lite0
child per setting is the bench itself, minutes); one real child at the smallest size checks the timings exist."""

import json
import sys

import pytest

from benchmarks.bench import levers

STAND_IN = {"stage1_trace_s": 4.0, "stage2_trace_s": 9.0, "evaluation_s": 2.0}


def stand_in(size: int, policy: str) -> list[str]:
    slower = 2.0 if policy == "mixed_bfloat16" else 1.0
    timing = {**STAND_IN, "stage1_epoch_s": size / 100, "stage2_epoch_s": slower * size / 40}
    return [sys.executable, "-c", f"print('noise'); print({json.dumps(timing)!r})"]


def test_settings_alternate_and_the_summary_costs_one_seed_per_epoch_preset(tmp_path):
    settings = [(80, "float32"), (80, "mixed_bfloat16")]
    table = levers.measure(settings, 2, stand_in, echo=lambda line: None)
    assert list(table["policy"]) == ["float32", "mixed_bfloat16", "mixed_bfloat16", "float32"]
    summary = levers.summary(table)
    # 5 stage-1 epochs at 0.8 s + 6 stage-2 epochs at 2.0 s + 2.0 s of evaluation = 18.0 s; bfloat16's stage 2 is 4.0 s
    assert summary.loc[0, "seed at 5 + 6 s (×)"] == "18.0 (1.00×)"
    assert summary.loc[1, "seed at 5 + 6 s (×)"] == "30.0 (1.67×)"
    assert summary.loc[1, "stage2 epoch s"] == "4.00 [4.00–4.00]"
    text = levers.to_markdown(table, {"machine": "test"})
    assert "| image size | policy | stage1 epoch s |" in text and "| 2 | 80 | mixed_bfloat16 |" in text


def test_a_failing_child_names_its_setting():
    with pytest.raises(RuntimeError, match="64 px float32 child failed"):
        levers.measure([(64, "float32")], 1, lambda size, policy: [sys.executable, "-c", "raise SystemExit(2)"])
