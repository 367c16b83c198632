"""Splits of real photos by their content, never by file names or file order.

Real data sets hold duplicates: tf_flowers files one photo under both roses and tulips and has byte-identical
sunflowers. Split naively, a photo can sit in training and in the test set at once. So, before any split:

- identical photos (same SHA-256 of their content) are reduced to one;
- a photo found under two classes has no single label and is left out.

Each class is then ordered by its photos' digests and cut in that order: validation takes the first `n_val`, the
training pool the next ones, the test set what remains (capped at `n_test`). The order depends only on the content,
so renaming or reordering files changes nothing, and adding or removing one photo shifts at most one photo across
each cut of its own class and none of any other class.

The training pool takes half of what validation leaves, at least `pool_min` (the scale's own n_train: a small folder
still trains as the preset says) and at most `pool_max` (the largest n_train a claim asks for); every seed draws its
training images from the whole pool. The test set must keep at least `MIN_TEST` photos per class (or `n_test`, if
smaller), else one DataError names each class and its counts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tl_claims.data.validate import DataError

MIN_TEST = 20  # per class: below this a class's accuracy rests on too few photos to say anything


@dataclass(frozen=True)
class ContentSplit:
    """Positions into the source's images, per split, and what deduplication removed."""

    val: np.ndarray
    pool: np.ndarray
    test: np.ndarray
    duplicates: int  # copies of a photo already kept in the same class
    conflicts: int  # photos found under more than one class (every copy left out)


@dataclass(frozen=True)
class SplitSizes:
    n_val: int
    pool_min: int
    pool_max: int
    n_test: int


def split_by_content(
    digests: np.ndarray, labels: np.ndarray, class_names: tuple[str, ...], sizes: SplitSizes
) -> ContentSplit:
    """Deduplicate, order each class by digest, and cut it into val / training pool / test."""
    kept, duplicates, conflicts = unique_photos(digests, labels)
    parts: dict[str, list[np.ndarray]] = {"val": [], "pool": [], "test": []}
    shortages = []
    for c, name in enumerate(class_names):
        members = kept[labels[kept] == c]
        ordered = members[np.argsort(digests[members], kind="stable")]
        cut = class_cuts(len(ordered), sizes)
        if cut is None:
            shortages.append(shortage(name, len(ordered), sizes))
            continue
        n_val, n_pool, n_test = cut
        parts["val"].append(ordered[:n_val])
        parts["pool"].append(ordered[n_val : n_val + n_pool])
        parts["test"].append(ordered[n_val + n_pool : n_val + n_pool + n_test])
    if shortages:
        raise DataError("too few distinct photos to split: " + "; ".join(shortages))
    joined = {split: np.sort(np.concatenate(chunks)) for split, chunks in parts.items()}
    return ContentSplit(joined["val"], joined["pool"], joined["test"], duplicates, conflicts)


def class_cuts(available: int, sizes: SplitSizes) -> tuple[int, int, int] | None:
    """(n_val, pool, n_test) for a class of `available` distinct photos, or None when it cannot hold them."""
    after_val = available - sizes.n_val
    pool = min(sizes.pool_max, max(sizes.pool_min, after_val // 2))
    test = min(sizes.n_test, after_val - pool)
    if after_val < sizes.pool_min or test < min(MIN_TEST, sizes.n_test):
        return None
    return sizes.n_val, pool, test


def shortage(name: str, available: int, sizes: SplitSizes) -> str:
    need = sizes.n_val + sizes.pool_min + min(MIN_TEST, sizes.n_test)
    return (
        f"class {name!r} has {available} distinct photos; n_val={sizes.n_val} + n_train={sizes.pool_min} + at least "
        f"{min(MIN_TEST, sizes.n_test)} test photos need {need}. Add photos to {name!r} or lower --n-train"
    )


def unique_photos(digests: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, int, int]:
    """Positions of the first copy of each photo whose copies all share one label; counts of dropped copies."""
    first: dict[str, int] = {}
    classes: dict[str, set[int]] = {}
    for position, (digest, label) in enumerate(zip(digests, labels)):
        first.setdefault(digest, position)
        classes.setdefault(digest, set()).add(int(label))
    conflicting = {digest for digest, found in classes.items() if len(found) > 1}
    kept = np.array(sorted(p for d, p in first.items() if d not in conflicting), dtype=np.int64)
    conflicts = sum(1 for digest in digests if digest in conflicting)
    duplicates = len(digests) - len(first) - (conflicts - len(conflicting))
    return kept, duplicates, conflicts
