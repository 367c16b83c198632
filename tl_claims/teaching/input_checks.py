"""Teaching checks on the images the model sees: preprocessing that fits the backbone, augmentation in training only.

These checks look: they call the student's model in inference mode and iterate its datasets. Augmentation is judged
by what it does to an image (a fixed per-pixel mapping of one input image, whatever the batching), never by
comparing two passes that a seeded RNG can repeat.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import numpy as np

from tl_claims import backbones
from tl_claims.teaching import messages
from tl_claims.teaching.pipeline import CheckFailure, Pipeline, capturing_calls
from tl_claims.teaching.student import ContractError

RANGE_TOLERANCE = 0.05  # fraction of the expected input span each end of the seen range may be off by
OUTPUT_TOLERANCE = 1e-4  # relative to the tensor's scale: batchings of one image may differ by float noise only
POINTWISE_TOLERANCE = 1e-3  # relative to the images' scale: how far a value may stray from its channel's mapping
MAX_VAL_BATCHES = 64  # bounds a pass over a (possibly repeated) validation dataset


def base_input(pipeline: Pipeline, images) -> np.ndarray:
    """The tensor that reaches the base when the model predicts `images` (inference mode)."""
    return inference(pipeline, images)[0]


def inference(pipeline: Pipeline, images) -> tuple[np.ndarray, np.ndarray]:
    """One inference-mode call of the model on `images`: the tensor that reached the base, and the output."""
    with capturing_calls(pipeline.base) as calls:
        output = pipeline.model(images, training=False)
    if not calls:
        raise ContractError(messages.text(pipeline.student.lang, "contract_base_not_called"))
    return np.asarray(calls[0]), np.asarray(output)


def check_preprocessing_matches_backbone(pipeline: Pipeline) -> None:
    """What reaches the base's first layer spans the range its weights expect (catches raw 0-255, double scaling)."""
    spec = backbones.get(pipeline.student.backbone)
    seen = [base_input(pipeline, images) for images, _ in batches(pipeline.val)]
    seen_low, seen_high = min(float(s.min()) for s in seen), max(float(s.max()) for s in seen)
    expected = np.asarray(spec.preprocess(pipeline.config.x_val))
    low, high = float(expected.min()), float(expected.max())
    if close_range((seen_low, seen_high), (low, high)):
        return
    expression, layer = formula(spec.name)
    values = dict(
        base=pipeline.base.name,
        backbone=spec.name,
        seen_low=seen_low,
        seen_high=seen_high,
        low=low,
        high=high,
        expression=expression,
        layer=layer,
    )
    text_fields = {
        "hint": range_hint((seen_low, seen_high), (low, high)),
        "expects": "expects_0_255" if high > 2 else "expects_scaled",
        "fix_hint": "fix_0_255" if high > 2 else "fix_scaled",
    }
    raise CheckFailure("preprocessing_matches_backbone", "range", values, text_fields)


def check_augmentation_inactive_at_inference(pipeline: Pipeline) -> None:
    """With training=False (what predict and evaluate pass) each image's result depends on that image alone.

    The tensor entering the base and the output of every image are compared between the batch as given, the batch
    reversed and each image on its own. A random op that ignores the flag (tf.image.random_* in a Lambda) gives an
    image a different draw in another position or call, however its RNG is seeded; dropout left on does the same to
    the output. Deterministic layers (Keras' augmentation layers at inference, a fixed crop) pass. A plain `model(x)`
    is not checked: Keras' augmentation layers default to augmenting when given no flag at all.
    """
    images = np.asarray(pipeline.first_batch("val")[0])
    batchings = three_batchings(lambda batch: inference(pipeline, batch), images)  # one set of calls for both
    for where, index in (("where_base_input", 0), ("where_output", 1)):
        first, *others = (results[index] for results in batchings)
        delta = max(float(np.max(np.abs(first - other))) for other in others)
        if delta > OUTPUT_TOLERANCE * max(float(np.max(np.abs(first))), 1e-12):
            raise CheckFailure(
                "augmentation_inactive_at_inference",
                "nondeterministic",
                dict(call="model(images, training=False)", n=len(images), delta=delta),
                {"where": where},
            )


def three_batchings(
    probe: Callable[[np.ndarray], tuple[np.ndarray, ...]], images: np.ndarray
) -> list[tuple[np.ndarray, ...]]:
    """The probe's per-image results for the batch as given, the batch reversed and each image on its own, each put
    back in the given order: an image whose result depends on anything but itself differs between them."""
    given = probe(images)
    reversed_ = tuple(result[::-1] for result in probe(images[::-1]))
    alone = [probe(images[index : index + 1]) for index in range(len(images))]
    return [given, reversed_, tuple(np.concatenate(results) for results in zip(*alone, strict=True))]


def check_augmentation_absent_from_val(pipeline: Pipeline) -> None:
    """Every image val yields is the same fixed per-pixel function of one of the harness's images (any order).

    The harness owns `x_val`: each yielded image must have an input image of the same geometry from which it follows
    value by value (one mapping per channel, the same for every image: preprocessing). A flip, crop, rotation or
    colour jitter breaks that whatever RNG it uses and however it is seeded; shuffling val does not.
    """
    inputs = np.asarray(pipeline.config.x_val)
    yielded = [np.asarray(image) for images, _ in batches(pipeline.val) for image in np.asarray(images)]
    n_changed = count_not_pointwise(inputs, yielded)
    if n_changed:
        raise CheckFailure("augmentation_absent_from_val", "changes", dict(n_changed=n_changed, n=len(yielded)))


def batches(dataset) -> Iterable[tuple]:
    for element in dataset.take(MAX_VAL_BATCHES):
        yield element[0], element[1]


def value_spread(inputs: np.ndarray, outputs: np.ndarray) -> float:
    """How far `outputs` is from being one function of `inputs` per channel: the largest range of outputs among
    equal input values of a channel (0 for a pointwise mapping); infinite when the shapes differ."""
    if inputs.shape != outputs.shape:
        return math.inf
    x = inputs.reshape(-1, inputs.shape[-1])
    y = outputs.reshape(-1, outputs.shape[-1]).astype(np.float64)
    spread = 0.0
    for channel in range(x.shape[1]):
        values, groups = np.unique(x[:, channel], return_inverse=True)
        low, high = np.full(len(values), np.inf), np.full(len(values), -np.inf)
        np.minimum.at(low, groups, y[:, channel])
        np.maximum.at(high, groups, y[:, channel])
        spread = max(spread, float(np.max(high - low)))
    return spread


def count_not_pointwise(inputs: np.ndarray, yielded: list[np.ndarray]) -> int:
    """How many yielded images are not the shared per-pixel mapping of some input image.

    Each yielded image is matched to the first input it is a per-channel function of; then the matched pairs must
    share one mapping (pooled over all of them); images that break the pooled mapping are counted.
    """
    if not yielded:
        return 0
    scale = max([float(np.max(np.abs(image))) for image in yielded] + [1e-12])
    tolerance = POINTWISE_TOLERANCE * scale
    pairs = [(source, image) for image in yielded if (source := pointwise_source(inputs, image, tolerance)) is not None]
    unmatched = len(yielded) - len(pairs)
    if not pairs or value_spread(np.stack([x for x, _ in pairs]), np.stack([y for _, y in pairs])) <= tolerance:
        return unmatched
    mapping = shared_mapping(pairs)
    return unmatched + sum(not follows(mapping, x, y, tolerance) for x, y in pairs)


def pointwise_source(inputs: np.ndarray, image: np.ndarray, tolerance: float) -> np.ndarray | None:
    return next((source for source in inputs if value_spread(source, image) <= tolerance), None)


def shared_mapping(pairs: list[tuple[np.ndarray, np.ndarray]]) -> dict[tuple[int, float], float]:
    """The median output per (channel, input value) over every matched pair: the mapping most images follow."""
    collected: dict[tuple[int, float], list[float]] = {}
    for x, y in pairs:
        for channel in range(x.shape[-1]):
            for value, out in zip(x[..., channel].ravel(), y[..., channel].ravel()):
                collected.setdefault((channel, float(value)), []).append(float(out))
    return {key: float(np.median(outs)) for key, outs in collected.items()}


def follows(mapping: dict[tuple[int, float], float], x: np.ndarray, y: np.ndarray, tolerance: float) -> bool:
    for channel in range(x.shape[-1]):
        for value, out in zip(x[..., channel].ravel(), y[..., channel].ravel()):
            if abs(mapping[(channel, float(value))] - float(out)) > tolerance:
                return False
    return True


def close_range(seen: tuple[float, float], expected: tuple[float, float]) -> bool:
    span = expected[1] - expected[0]
    return all(abs(s - e) <= RANGE_TOLERANCE * span for s, e in zip(seen, expected))


def range_hint(seen: tuple[float, float], expected: tuple[float, float]) -> str:
    """The usual culprits, recognised from the seen range: raw pixels, /255 only, scaled twice."""
    if close_range(seen, (0.0, 255.0)):
        return "hint_raw"
    if close_range(seen, (0.0, 1.0)):
        return "hint_double" if expected[1] > 2 else "hint_divided"
    if close_range(seen, tuple(value / 255.0 for value in expected)):
        return "hint_double"
    return ""


def formula(backbone: str) -> tuple[str, str]:
    """The backbone's preprocessing for the fix line, as arithmetic and as a Keras layer, read off the registered
    function (it is affine)."""
    zero, full = (float(np.asarray(backbones.get(backbone).preprocess(np.full((1,), value)))[0]) for value in (0, 255))
    scale = (full - zero) / 255.0
    divisor, offset = 1.0 / scale, -zero / scale
    layer = f"keras.layers.Rescaling(1 / {divisor:g}, offset=-{offset:g} / {divisor:g})"
    return f"(x - {offset:g}) / {divisor:g}", layer
