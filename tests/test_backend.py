"""The Keras backend: read without importing Keras, and on JAX the recipe, the lab and a claim need no TensorFlow
(and the offline weights reader no PyTorch), proved in a process where importing either fails."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tl_claims.core import backend
from tl_claims.core.paths import REPO_ROOT


def test_the_configured_backend_is_the_environment_then_keras_json_then_tensorflow(monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    assert backend.configured_backend() == "jax"
    monkeypatch.delenv("KERAS_BACKEND")
    assert backend.configured_backend() == "tensorflow"
    (tmp_path / "keras.json").write_text(json.dumps({"backend": "torch", "floatx": "float32"}))
    assert backend.configured_backend() == "torch"
    (tmp_path / "keras.json").write_text("{not json")
    assert backend.configured_backend() == "tensorflow"


# Runs in a fresh process: TensorFlow and PyTorch made unimportable before anything else, then two claims at smoke
# scale through the engine and the lab (stage 1, stage 2, MixUp-free and CutMix batches, evaluations) on the tiny
# backbone, and the Lite0 base built with its offline ImageNet weights.
WITHOUT_TENSORFLOW = """
import importlib.util, json, sys
class Refuse:  # first on the import path: both are absent as far as this process can tell
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in ("tensorflow", "torch"):
            raise ModuleNotFoundError(f"No module named {name!r} (made unimportable)")
sys.meta_path.insert(0, Refuse())  # not sys.modules[name] = None: Keras and SciPy read sys.modules for them
from pathlib import Path
spec = importlib.util.spec_from_file_location("test_helpers", sys.argv[1])
helpers = importlib.util.module_from_spec(spec)
spec.loader.exec_module(helpers)
from tl_claims import backbones, engine
from tl_claims.claims.registry import CLAIMS
from tl_claims.recipe.lab import Lab
from tl_claims.recipe.scales import SCALES
backbones.REGISTRY[helpers.TINY] = helpers.tiny_spec()
lab = Lab(SCALES["smoke"].override(backbone=helpers.TINY), Path(sys.argv[2]))
rows = [engine.run_claim(CLAIMS[claim], variant, lab, run_id="r", progress=lambda line: None)[0]
        for claim, variant in (("two_stage", "lr_1e-5"), ("modern_augs", "cutmix"))]
base = backbones.load("efficientnet_lite0", image_size=32, weights="imagenet", cache_dir=Path(sys.argv[2]))
print(json.dumps({"rows": [[row.backend, row.per_seed] for row in rows], "lite0 weights": len(base.weights),
                  "loaded": sorted(name for name in ("tensorflow", "torch") if name in sys.modules)}))
"""


@pytest.mark.longest
def test_a_smoke_claim_runs_on_jax_with_tensorflow_and_torch_unimportable(shared_data_cache):
    pytest.importorskip("jax", reason="JAX is not installed: pip install -e '.[jax]' (make test-backends)")
    environment = {**os.environ, "KERAS_BACKEND": "jax", "PYTHONPATH": str(REPO_ROOT)}
    helpers = Path(__file__).parent / "conftest.py"
    result = subprocess.run(
        [sys.executable, "-c", WITHOUT_TENSORFLOW, str(helpers), str(shared_data_cache())],
        capture_output=True,
        text=True,
        env=environment,
        timeout=1200,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert [backend_name for backend_name, _ in report["rows"]] == ["jax", "jax"]
    assert all(values for _, per_seed in report["rows"] for values in per_seed.values())
    assert report["lite0 weights"] > 100 and report["loaded"] == []
