"""The procedural image families behind `synthetic:FAMILY`, and the one writer that turns any of them into folders.

A family is a generator module with five class names, a version and a function `(seed, index, size) -> (JPEG
bytes, label)` whose label is `index % 5`. Two families exist, designed independently so that a verdict that holds
on one and not on the other points at the generator rather than at transfer learning:

- `flowers` (`flowers.py` and `flower_species.py`, the default): radially symmetric organic shapes seen from above,
  outdoors;
- `objects` (`objects.py`, `object_drawers.py`, `object_rooms.py`, `object_paints.py`): rigid man-made household
  objects seen from the side, indoors, with clutter.

This registry imports the family modules and never the other way round (tests/data/test_families.py), and the two
families share no picture code, so an artefact of one generator is not silently repeated in the other.

Images are written as `<class>/<index // 5:05d>.jpg` class-folder trees, the layout `image_dataset_from_directory`
reads, so splits, validation and caches treat every family the same way, each file with the artefact store's hash
sidecar. Only numpy, PIL and `tl_claims.core.store` are imported here: the helper processes that generate images must
not pay for TensorFlow.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tl_claims.core import store
from tl_claims.data import flowers, objects

PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # so helper processes import this very checkout


@dataclass(frozen=True)
class Family:
    name: str
    class_names: tuple[str, ...]
    version: int  # bumped whenever the pictures change: it keys the on-disk folders
    jpeg: Callable[[int, int, int], tuple[bytes, int]]  # (seed, index, size) -> (JPEG bytes, label)
    summary: str


FAMILIES: dict[str, Family] = {
    "flowers": Family(
        "flowers",
        flowers.CLASS_NAMES,
        flowers.GENERATOR_VERSION,
        flowers.flower_jpeg,
        "procedural flowers named like tf_flowers (organic, radial, outdoors)",
    ),
    "objects": Family(
        "objects",
        objects.CLASS_NAMES,
        objects.GENERATOR_VERSION,
        objects.object_jpeg,
        "procedural household objects (man-made, rigid, side views, indoor clutter)",
    ),
}
DEFAULT_FAMILY = "flowers"


def get_family(name: str) -> Family:
    """The family called `name`; a KeyError names the known ones (the spec parser turns it into a DataError)."""
    try:
        return FAMILIES[name]
    except KeyError:
        raise KeyError(f"unknown synthetic family {name!r}; known: {', '.join(FAMILIES)}") from None


def image_path(family: Family, folder: Path, index: int) -> Path:
    """Where image `index` lives in a class-folder tree: `<class>/<index // n_classes:05d>.jpg`."""
    n = len(family.class_names)
    return Path(folder) / family.class_names[index % n] / f"{index // n:05d}.jpg"


def image_index(family: Family, path: Path) -> int:
    """Inverse of `image_path`."""
    path = Path(path)
    return int(path.stem) * len(family.class_names) + family.class_names.index(path.parent.name)


def write_folders(family: Family, folder: Path, seed: int, size: int, indices: Sequence[int], workers: int = 1) -> None:
    """Write the given images into a class-folder tree (see `image_path`), sharing the work among `workers`.

    Helpers are plain `python -c` subprocesses rather than multiprocessing: spawn would re-run an unguarded
    caller's main script, and fork is unsafe once TensorFlow has started threads.
    """
    folder = Path(folder)
    for name in family.class_names:
        (folder / name).mkdir(parents=True, exist_ok=True)
    indices = list(indices)
    shares = [indices[i::workers] for i in range(max(workers, 1))]
    helpers = [start_helper(family, folder, seed, size, share) for share in shares[1:] if share]
    write_files(family, folder, seed, size, shares[0])
    for helper in helpers:
        _, error = helper.communicate()
        if helper.returncode:
            raise RuntimeError(
                f"{family.name} generation helper failed ({helper.returncode}): {error.decode()[-2000:]}"
            )


def start_helper(family: Family, folder: Path, seed: int, size: int, share: list[int]) -> subprocess.Popen:
    code = "import sys; from tl_claims.data.families import write_files_cli; write_files_cli(sys.argv[1:])"
    arguments = [family.name, str(folder), str(seed), str(size), ",".join(map(str, share))]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(PACKAGE_ROOT), os.environ.get("PYTHONPATH", "")]))
    return subprocess.Popen(
        [sys.executable, "-c", code, *arguments], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


def write_files_cli(argv: list[str]) -> None:
    name, folder, seed, size, indices = argv
    write_files(get_family(name), Path(folder), int(seed), int(size), [int(i) for i in indices.split(",")])


def write_files(family: Family, folder: Path, seed: int, size: int, indices: Sequence[int]) -> None:
    """Each file appears atomically with its hash (`tl_claims.core.store`): a concurrent reader never sees half a
    JPEG, and a later read can tell a damaged one."""
    for index in indices:
        data, _ = family.jpeg(seed, index, size)
        store.write_bytes_checked(image_path(family, folder, index), data)
