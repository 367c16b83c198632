"""Scale presets as data: how big each experiment is at `smoke`, `cpu` and `gpu` scale.

Command-line options override single fields (`Scale.override`). Each default has a reason next to it.
"""

from dataclasses import dataclass, field, fields, replace


@dataclass(frozen=True)
class Scale:
    name: str
    backbone: str
    dataset: str
    image_size: int
    n_train: int  # training images per class
    n_val: int  # validation images per class
    n_test: int  # test images per class: only forward passes, so as many as the budget allows
    batch_size: int
    stage1_epochs: int  # head warm-up, base frozen, Adam 1e-3
    stage2_epochs: int  # fine-tuning, base unfrozen, low learning rate
    seeds: tuple[int, ...]
    stage1_lr: float = 1e-3  # the lesson's head warm-up rate
    stage2_lr: float = 1e-5  # the lesson's fine-tuning rate
    dropout: float = 0.2
    learning_curve_sizes: tuple[int, ...] = field(default=(10, 25, 50, 100, 200))

    def override(self, **changes: object) -> "Scale":
        """A copy with the non-None `changes` applied; `seeds=N` means seeds 0..N-1."""
        known = {f.name for f in fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise ValueError(f"unknown scale field(s) {sorted(unknown)}; known: {sorted(known)}")
        applied = {key: value for key, value in changes.items() if value is not None}
        if isinstance(applied.get("seeds"), int):
            applied["seeds"] = tuple(range(applied["seeds"]))
        return replace(self, **applied)


SCALES: dict[str, Scale] = {
    # Every claim's code path end to end in seconds: tiny images, a handful of them, one seed, no verdict asserted.
    "smoke": Scale(
        name="smoke",
        backbone="efficientnet_lite0",
        dataset="synthetic",
        image_size=32,
        n_train=4,
        n_val=2,
        n_test=4,
        batch_size=8,
        stage1_epochs=1,
        stage2_epochs=1,
        seeds=(0,),
        learning_curve_sizes=(2, 4),
    ),
    # Verdicts on a 2-core CPU: 96 px keeps Lite0 fine-tuning near 40 img/s (DESIGN.md), 50 images per class is the
    # lesson's "small data", 200 test images per class keep test noise well under the effects measured.
    "cpu": Scale(
        name="cpu",
        backbone="efficientnet_lite0",
        dataset="synthetic",
        image_size=96,
        n_train=50,
        n_val=10,
        n_test=200,
        batch_size=32,
        stage1_epochs=10,
        stage2_epochs=6,
        seeds=(0, 1, 2),
    ),
    # The lesson's recipe at full size: EfficientNetB0 ImageNet, tf_flowers, 224 px, 5 + 10 epochs, five seeds.
    # tf_flowers' smallest class has 633 images, so 400 / 50 / 150 per class fits every class.
    "gpu": Scale(
        name="gpu",
        backbone="efficientnet_b0",
        dataset="tfds:tf_flowers",
        image_size=224,
        n_train=400,
        n_val=50,
        n_test=150,
        batch_size=32,
        stage1_epochs=5,
        stage2_epochs=10,
        seeds=(0, 1, 2, 3, 4),
        learning_curve_sizes=(10, 25, 50, 100, 200, 400),
    ),
}
