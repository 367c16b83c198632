"""Splitting real photos by content (tl_claims/data/content_split.py): duplicates never straddle splits, the cut follows
the content and not the files' order, a small folder still splits as the preset says, and a short class is named."""

import hashlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tl_claims.data.content_split import MIN_TEST, SplitSizes, class_cuts, split_by_content
from tl_claims.data.validate import DataError

CLASSES = ("daisy", "roses", "tulips")
CPU_LIKE = SplitSizes(n_val=10, pool_min=50, pool_max=200, n_test=1000)


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def photos(per_class: int, n_classes: int = 3) -> tuple[np.ndarray, np.ndarray]:
    names = [f"{c}-{i}" for c in range(n_classes) for i in range(per_class)]
    return np.array([digest(name) for name in names]), np.repeat(np.arange(n_classes), per_class)


def members(split, digests) -> dict[str, set[str]]:
    return {name: set(digests[getattr(split, name)]) for name in ("val", "pool", "test")}


def test_a_folder_of_100_per_class_splits_as_the_preset_says():
    digests, labels = photos(100)
    split = split_by_content(digests, labels, CLASSES, CPU_LIKE)
    for name, expected in (("val", 10), ("pool", 50), ("test", 40)):
        assert np.bincount(labels[getattr(split, name)]).tolist() == [expected] * 3, name


def test_a_large_class_gives_half_to_the_pool_up_to_its_cap_and_the_rest_to_test():
    assert class_cuts(449, CPU_LIKE) == (10, 200, 239)  # tf_flowers' roses at 128 px: the pool is capped at 200
    assert class_cuts(300, CPU_LIKE) == (10, 145, 145)
    assert class_cuts(449, SplitSizes(10, 50, 200, n_test=100)) == (10, 200, 100)  # the test set's cap


def test_splits_are_disjoint_and_hold_no_photo_twice():
    digests, labels = photos(80)
    digests = np.concatenate([digests, digests[:5], digests[100:103]])  # copies within their own classes
    labels = np.concatenate([labels, labels[:5], labels[100:103]])
    split = split_by_content(digests, labels, CLASSES, CPU_LIKE)
    seen = members(split, digests)
    assert not (seen["val"] & seen["pool"] or seen["val"] & seen["test"] or seen["pool"] & seen["test"])
    used = np.concatenate([split.val, split.pool, split.test])
    assert len(set(digests[used])) == len(used)
    assert split.duplicates == 8 and split.conflicts == 0


def test_a_photo_filed_under_two_classes_is_left_out_everywhere():
    digests, labels = photos(90)
    shared = digests[3]
    digests = np.append(digests, shared)  # daisy-3 again, filed under tulips
    labels = np.append(labels, 2)
    split = split_by_content(digests, labels, CLASSES, CPU_LIKE)
    used = set(digests[np.concatenate([split.val, split.pool, split.test])])
    assert shared not in used and split.conflicts == 2


def test_the_files_order_does_not_change_the_split():
    digests, labels = photos(90)
    order = np.random.default_rng(0).permutation(len(digests))
    first = members(split_by_content(digests, labels, CLASSES, CPU_LIKE), digests)
    second = members(split_by_content(digests[order], labels[order], CLASSES, CPU_LIKE), digests[order])
    assert first == second


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=0, max_value=10_000), st.integers(min_value=0, max_value=2))
def test_adding_a_photo_moves_at_most_one_photo_per_cut_and_none_in_other_classes(token, cls):
    digests, labels = photos(120)
    sizes = SplitSizes(n_val=10, pool_min=50, pool_max=50, n_test=1000)  # the pool at its cap: sizes stay put
    grown_digests, grown_labels = np.append(digests, digest(f"new-{token}")), np.append(labels, cls)
    before = split_by_content(digests, labels, CLASSES, sizes)
    grown = split_by_content(grown_digests, grown_labels, CLASSES, sizes)
    for c in range(3):
        old, new = [
            {name: set(d[getattr(s, name)][y[getattr(s, name)] == c]) for name in ("val", "pool", "test")}
            for s, d, y in ((before, digests, labels), (grown, grown_digests, grown_labels))
        ]
        moved = sum(len(old[name] - new[name]) for name in old)
        assert moved <= (2 if c == cls else 0)  # two cuts in the new photo's class, none elsewhere


def test_a_class_too_small_is_named_with_its_counts():
    digests, labels = photos(100)
    keep = (labels != 1) | (np.arange(len(labels)) % 100 < 70)  # roses: 70 photos
    with pytest.raises(DataError) as error:
        split_by_content(digests[keep], labels[keep], CLASSES, CPU_LIKE)
    message = str(error.value)
    assert "'roses' has 70 distinct photos" in message and f"at least {MIN_TEST} test photos need 80" in message
    assert "daisy" not in message
