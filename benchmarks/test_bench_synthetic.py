"""Synthetic generation throughput per family (one process, JPEG included), at the CPU and the lesson's image sizes."""

import pytest

from benchmarks import bench
from tl_claims.data.families import FAMILIES

BATCH = 10


@pytest.mark.parametrize("family", sorted(FAMILIES))
@pytest.mark.parametrize("size", [96, 224])
def test_synthetic_generation_images_per_second(benchmark, size, family):
    counter = iter(range(10**9))
    jpeg = FAMILIES[family].jpeg

    def generate_batch():
        start = next(counter) * BATCH
        return [jpeg(0, index, size) for index in range(start, start + BATCH)]

    images = benchmark.pedantic(generate_batch, rounds=5, iterations=1, warmup_rounds=1)
    assert len(images) == BATCH
    if benchmark.stats is not None:  # None when benchmarks are disabled (e.g. under xdist)
        benchmark.extra_info.update(bench.rate_spread(BATCH, benchmark.stats.stats))
