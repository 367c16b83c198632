"""docs/extending.md's recipe for a new claim is true: its code block, saved as a new module and added to the
registry, is collected at every scale and measured end to end, and nothing else had to change."""

import importlib.util
import re
from types import SimpleNamespace

import numpy as np

from tl_claims import engine
from tl_claims.claims import registry
from tl_claims.core.paths import REPO_ROOT
from tl_claims.plugin.selection import claim_cases
from tl_claims.recipe.evaluation import Evaluation
from tl_claims.recipe.scales import SCALES

GUIDE = REPO_ROOT / "docs" / "extending.md"


def claim_from_the_guide(tmp_path):
    section = GUIDE.read_text(encoding="utf-8").split("## Add a claim", 1)[1].split("\n## ", 1)[0]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    module_file = tmp_path / "toy_rate.py"
    module_file.write_text(re.sub(r"^   ", "", code, flags=re.M), encoding="utf-8")
    spec = importlib.util.spec_from_file_location("toy_rate", module_file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.CLAIM


class FakeLab:
    """Stage 2 at 1e-4 gets 80 % of 200 images right and 1e-5 70 %, whatever the seed: no training needed."""

    def __init__(self, seeds: int):
        self.scale, self.ledger = SCALES["cpu"].override(seeds=seeds), []

    def stage2(self, seed, options):
        return SimpleNamespace(rate=options.learning_rate)

    def evaluate(self, model, seed, split="test"):
        right = 160 if model.rate == 1e-4 else 140
        return Evaluation(np.r_[np.zeros(right), np.ones(200 - right)], np.zeros(200))


def test_the_guides_toy_claim_runs_after_its_one_registry_line(tmp_path, monkeypatch):
    claim = claim_from_the_guide(tmp_path)
    monkeypatch.setitem(registry.CLAIMS, claim.id, claim)  # the one line the guide adds to registry.py
    ids = {case.id for case in claim_cases()}
    assert {"toy_rate-default-smoke", "toy_rate-default-cpu", "toy_rate-default-gpu"} <= ids
    row, outcomes = engine.run_claim(claim, "default", FakeLab(seeds=5), run_id="r", progress=lambda line: None)
    assert (row.baseline_arm, row.treatment_arm) == ("stage 2 at 1e-5", "stage 2 at 1e-4")
    assert row.delta == 0.1 and row.verdict == "CONFIRMED" and outcomes.treatment.shape == (5, 200)
