"""The memory bench's code path, on the tiny backbone: it reports the models the lab keeps and the process's size."""

import math

from benchmarks.bench import memory
from tl_claims.recipe.scales import SCALES


def test_the_bench_reports_each_step_and_the_lab_keeps_at_most_its_share(tiny_backbone, shared_data_cache):
    lines = []
    scale = SCALES["smoke"].override(backbone=tiny_backbone)
    rows = memory.measure(scale, seeds=6, every=2, echo=lines.append, cache_dir=shared_data_cache())
    assert [row[0] for row in rows] == [1, 2, 4, 6] and len(lines) == 4
    assert [row[1] for row in rows] == [2, 4, 8, 8]  # two models a seed, then the lab's 8 most recent
    assert all(math.isnan(mb) or mb > 0 for _, _, mb in rows)
