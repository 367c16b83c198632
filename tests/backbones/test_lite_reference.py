"""The Keras EfficientNet-Lite ports against the published PyTorch model: every ImageNet probability within 1e-4.

The reference probabilities in `fixtures/lite{0,1}_reference.npz` were computed by the published PyTorch model
(`efficientnet-lite-pytorch` 0.1.0 with the weights packages' .pth, torch 2.13.0+cpu) in a separate venv by
`make_lite_reference.py`, which is not run here (the project never imports torch). The inputs are rebuilt here with
that script's own function and checked against the hashes stored in the fixture.
"""

import hashlib
import json

import numpy as np
import pytest
from make_lite_reference import reference_inputs

from tl_claims import backbones
from tl_claims.backbones import efficientnet_lite
from tl_claims.backbones.efficientnet_lite import LITE0, LITE1
from tl_claims.core.paths import REPO_ROOT

FIXTURES = REPO_ROOT / "fixtures"

TOLERANCE = 1e-4  # max |Δ probability| over 1000 classes x 3 images
PHOTO_TOP1 = {"chelsea": 285, "coffee": 967}  # Egyptian cat, espresso


def reference(variant: efficientnet_lite.LiteVariant) -> dict:
    short = variant.name.removeprefix("efficientnet_")
    with np.load(FIXTURES / f"{short}_reference.npz", allow_pickle=False) as archive:
        fixture = {key: archive[key] for key in archive.files}
    fixture["provenance"] = json.loads(str(fixture["provenance"]))
    return fixture


@pytest.mark.parametrize("variant", [LITE0, LITE1], ids=lambda v: v.name)
def test_fixture_is_what_the_published_model_said_about_these_weights(variant):
    fixture = reference(variant)
    provenance = fixture["provenance"]
    weights = efficientnet_lite.installed_weights_path(variant)
    assert provenance["weights_file"] == variant.weights_file
    assert provenance["weights_sha256"] == hashlib.sha256(weights.read_bytes()).hexdigest()
    assert provenance["image_size"] == variant.default_image_size and provenance["preprocess"] == "(x - 127) / 128"
    assert provenance["versions"][variant.weights_package] == variant.weights_version
    np.testing.assert_allclose(fixture["probabilities"].sum(axis=1), 1.0, atol=1e-5)
    top1 = dict(zip(fixture["names"].tolist(), fixture["top1"].tolist()))
    assert {name: top1[name] for name in PHOTO_TOP1} == PHOTO_TOP1


def _keras_matches_published(variant: efficientnet_lite.LiteVariant) -> None:
    fixture = reference(variant)
    images = reference_inputs(variant.default_image_size)
    assert list(images) == fixture["names"].tolist()
    hashes = [hashlib.sha256(image.tobytes()).hexdigest() for image in images.values()]
    assert hashes == fixture["input_sha256"].tolist(), (
        "the inputs differ from those the reference was made on (a Pillow or scikit-image change in the resize or "
        "the photos?): remake the fixture with make_lite_reference.py before comparing networks"
    )
    spec = backbones.get(variant.name)
    model = backbones.load(variant.name, image_size=variant.default_image_size, include_top=True)
    probabilities = model.predict(spec.preprocess(np.stack(list(images.values()))), verbose=0)
    difference = np.abs(probabilities - fixture["probabilities"])
    top1 = dict(zip(images, probabilities.argmax(axis=1).tolist()))
    print(
        f"\n{variant.name} vs published PyTorch at {variant.default_image_size} px: max |Δprob| "
        f"{difference.max():.2e} (per image {', '.join(f'{d:.1e}' for d in difference.max(axis=1))}); "
        f"top-1 {top1}, p {[round(float(p), 4) for p in probabilities.max(axis=1)]}"
    )
    assert difference.max() <= TOLERANCE
    assert {name: top1[name] for name in PHOTO_TOP1} == PHOTO_TOP1
    assert list(top1.values()) == fixture["top1"].tolist()  # the noise image too


def test_lite0_matches_the_published_pytorch_model(cache_dir):
    """An independent confirmation of the default backbone (its other tests check top-1s, not probabilities)."""
    _keras_matches_published(LITE0)


@pytest.mark.cpu
def test_lite1_matches_the_published_pytorch_model(cache_dir):
    _keras_matches_published(LITE1)
