"""The augmentation-throughput writer: table, bottleneck rows, plain-words answer and files, from plain records."""

import subprocess
from types import SimpleNamespace

import pandas as pd
import pytest

from benchmarks import bench
from benchmarks.bench import Record
from tl_claims.core.paths import REPO_ROOT


def record(
    transform: str,
    placement: str,
    images_per_s: float | None,
    *,
    device: str = "cpu",
    size: int = 96,
    dtype: str = "float32",
    kind: str = bench.AUGMENTATION,
    note: str = "",
) -> Record:
    seconds = None if images_per_s is None else 100 / images_per_s  # the median round; the others ±10 % in rate
    return Record(
        kind=kind,
        transform=transform,
        placement=placement,
        device=device,
        image_size=size,
        dtype=dtype,
        batch_size=32,
        images_per_round=100,
        seconds_median=seconds,
        seconds_min=None if seconds is None else seconds / 1.1,
        seconds_max=None if seconds is None else seconds / 0.9,
        rounds=3,
        note=note,
        threads={"cpu_count": 2},
    )


def records() -> list[Record]:
    return [
        record(bench.STACK, bench.TF_DATA, 400.0),
        record(bench.STACK, bench.IN_MODEL, 200.0),
        record("flip", bench.TF_DATA, 4000.0),
        record("contrast", bench.TF_DATA, None, dtype="uint8", note="not supported — TypeError: uint8"),
        record(bench.NO_AUGMENTATION, bench.TF_DATA, 8000.0, kind=bench.REFERENCE),
        record(bench.MEMCPY, "-", 100_000.0, kind=bench.REFERENCE),
        record("train_stage1", "-", 100.0, kind=bench.REFERENCE),
        record("train_stage2", "-", 20.0, kind=bench.REFERENCE),
    ]


def test_images_per_s_is_images_over_the_median_round_with_the_slowest_and_fastest_beside_it():
    measured = record("flip", bench.TF_DATA, 250.0)
    assert measured.images_per_s == pytest.approx(250.0)
    assert (measured.images_per_s_min, measured.images_per_s_max) == (pytest.approx(225.0), pytest.approx(275.0))
    missing = record("flip", bench.TF_DATA, None)
    assert missing.images_per_s is missing.images_per_s_min is missing.images_per_s_max is None


def test_a_benchmarks_extra_info_holds_images_per_s_of_its_slowest_median_and_fastest_round():
    stats = SimpleNamespace(min=0.5, median=1.0, max=3.0)  # pytest-benchmark's round seconds
    spread = bench.rate_spread(100, stats)
    assert spread == {"images_per_s_min": 33.3, "images_per_s_median": 100.0, "images_per_s_max": 200.0}


def test_make_bench_saves_each_run_where_git_ignores_it():
    """`pytest-benchmark compare` reads the runs `--benchmark-autosave` stores under .benchmarks/; they stay local."""
    recipe = (REPO_ROOT / "Makefile").read_text(encoding="utf-8").split("\nbench: install\n", 1)[1].split("\n\n")[0]
    assert "--benchmark-autosave" in recipe and "--benchmark-only" in recipe
    if not (REPO_ROOT / ".git").exists():
        pytest.skip("not a git checkout: nothing to ignore")
    ignored = subprocess.run(["git", "check-ignore", "-q", ".benchmarks/Linux-CPython-3.11-64bit/0001_run.json"],
                             cwd=REPO_ROOT, check=False)  # fmt: skip
    assert ignored.returncode == 0


def test_table_compares_with_memcpy_and_the_no_augmentation_pipeline():
    table = bench.throughput_table(records()).set_index(["transform", "placement"])
    assert table.loc[("flip", bench.TF_DATA), "share_of_memcpy"] == pytest.approx(0.04)
    assert table.loc[("flip", bench.TF_DATA), "share_of_no_aug"] == pytest.approx(0.5)
    assert pd.isna(table.loc[(bench.STACK, bench.IN_MODEL), "share_of_no_aug"])  # no in-model pipeline reference


def test_bottleneck_ratio_and_epoch_time_on_a_shared_device():
    rows = bench.bottleneck_table(bench.throughput_table(records()))
    assert len(rows) == 4  # 2 placements × 2 training steps, all on the CPU
    row = rows[(rows["placement"] == bench.TF_DATA) & (rows["train_step"].str.startswith("stage 1"))].iloc[0]
    assert row["ratio"] == pytest.approx(4.0)
    assert row["epoch_time_factor"] == pytest.approx(1.25)  # costs add on one device: 1 + 1/ratio
    assert "20%" in row["reading"]


def test_tf_data_feeding_another_device_overlaps_and_can_starve_it():
    gpu_steps = [record("train_stage1", "-", 1600.0, device="gpu", kind=bench.REFERENCE)]
    table = bench.throughput_table([record(bench.STACK, bench.TF_DATA, 400.0), *gpu_steps])
    row = bench.bottleneck_table(table).iloc[0]
    assert (row["augment_on"], row["train_on"]) == ("cpu", "gpu")
    assert row["epoch_time_factor"] == pytest.approx(4.0)  # overlapped: the slower side sets the pace
    assert row["reading"].startswith("starves training")


def test_no_bottleneck_rows_without_a_training_reference():
    table = bench.throughput_table([record(bench.STACK, bench.TF_DATA, 400.0)])
    assert bench.bottleneck_table(table).empty
    assert "did not both run" in bench.answer(bench.bottleneck_table(table), gpu_visible=False)


def test_answer_names_the_worst_case_and_the_missing_gpu():
    text = bench.answer(bench.bottleneck_table(bench.throughput_table(records())), gpu_visible=False)
    assert "starve training here? No: it outruns every training step" in text
    assert "Worst case: stack model on cpu feeding stage 1 (frozen base) on cpu at 96 px" in text
    assert "no GPU was visible" in text


def test_answer_says_when_heavy_augmentation_starves_training():
    table = bench.throughput_table([*records(), record(bench.HEAVY, bench.TF_DATA, 50.0)])
    text = bench.answer(bench.bottleneck_table(table), gpu_visible=False)
    assert "Does RandAugment (heavy augmentation) starve training here? Yes, in 1 of 2 cases" in text


def test_report_files(tmp_path):
    versions = {"tensorflow": "2.21.0", "keras": "3.15.1"}
    paths = bench.write_report(records(), tmp_path, {"machine": "Test CPU (x86_64)", "versions": versions})
    csv = pd.read_csv(paths["csv"])
    assert set(csv["row"]) == {"throughput", "bottleneck"}
    markdown = paths["markdown"].read_text()
    assert "| stack |" in markdown and "## Bottleneck" in markdown and "- machine: Test CPU (x86_64)\n" in markdown
    assert "versions:\n\n| library | version |\n|---|---|\n| tensorflow | 2.21.0 |\n| keras | 3.15.1 |" in markdown
    assert "not supported — TypeError: uint8" in markdown
    assert "| transform | cpu float32 | model·cpu float32 | tf.data·cpu float32 | tf.data·cpu uint8 |" in markdown
    assert "| stack |  | 200 [180–220] | 400 [360–440] |  |" in markdown  # none measured: empty cells
    assert "| memcpy | 100,000 [90,000–110,000] |" in markdown
    assert {"images_per_s", "images_per_s_min", "images_per_s_max"} <= set(csv.columns)
    assert "| stack | tf.data | cpu | cpu | 96 | float32 | 400.00 | stage 1 (frozen base) | 100.00 | 4.00 |" in markdown
    assert paths["figure"].stat().st_size > 0


def test_thread_settings_are_recorded():
    settings = bench.thread_settings()
    assert {"cpu_count", "tf_intra_op", "tf_inter_op", "OMP_NUM_THREADS"} <= set(settings)


def test_the_peer_librarys_rows_do_not_answer_for_keras():
    peer = record(bench.STACK, "albumentations 1 thread", 10.0)  # slower than the step: would read as starvation
    text = bench.answer(bench.bottleneck_table(bench.throughput_table([*records(), peer])), gpu_visible=False)
    assert "five-layer stack starve training here? No" in text
    assert "- stack at 96 px in albumentations 1 thread" in text
