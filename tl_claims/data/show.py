"""Pictures of the data (lesson exercise 1): samples per class, and originals next to their augmented versions.

Drawn with matplotlib's object API (Figure + Agg canvas), not pyplot: no global backend switch, no window.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from tl_claims.data.sources import Splits

CELL_INCHES = 1.6


def sample_grid(splits: Splits, out: Path, per_class: int = 6) -> Path:
    """A PNG with one column per class (the class name on top) and `per_class` training images in each."""
    n_classes = len(splits.class_names)
    figure, axes = new_figure(per_class, n_classes)
    for c, name in enumerate(splits.class_names):
        images = splits.x_train[splits.y_train == c][:per_class]
        for row in range(per_class):
            axis = axes[row][c]
            if row < len(images):
                axis.imshow(images[row])
            if row == 0:
                axis.set_title(name, fontsize=10)
    return save(figure, out)


def augmentation_grid(splits: Splits, out: Path, n_augmented: int = 4, seed: int = 0) -> Path:
    """One original per class, then `n_augmented` draws of the lesson's augmentation (training=True) of it."""
    from tl_claims.data.augment import lesson_augmentation

    augment = lesson_augmentation(seed)
    originals = np.stack([splits.x_train[splits.y_train == c][0] for c in range(len(splits.class_names))])
    batch = originals.astype(np.float32)
    versions = [np.asarray(augment(batch, training=True)) for _ in range(n_augmented)]
    figure, axes = new_figure(len(originals), n_augmented + 1)
    for row, name in enumerate(splits.class_names):
        axes[row][0].imshow(originals[row])
        axes[row][0].set_title(name, fontsize=10)
        for k, version in enumerate(versions, start=1):
            axes[row][k].imshow(np.clip(version[row], 0, 255).astype(np.uint8))
            axes[row][k].set_title(f"augmented {k}", fontsize=9)
    return save(figure, out)


def new_figure(rows: int, columns: int):
    figure = Figure(figsize=(columns * CELL_INCHES, rows * CELL_INCHES + 0.3))
    axes = figure.subplots(rows, columns, squeeze=False)
    for axis in axes.ravel():
        axis.set_axis_off()
    return figure, axes


def save(figure: Figure, out: Path) -> Path:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.tight_layout()
    FigureCanvasAgg(figure).print_png(str(out))
    return out
