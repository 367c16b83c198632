"""The tf_flowers photos this project ships (`fixtures/tf_flowers/`): found, and checked against their checksums.

They travel with the repository, not with the wheel: 51 MB of photos would more than double every student's install,
and the cpu-scale claims and the teacher's grading run from a checkout. An installed package that lacks them says
where to get them. `tfds:tf_flowers` stays the online path to the full data set.
"""

from __future__ import annotations

import functools
from pathlib import Path

from tl_claims.core import store
from tl_claims.core.paths import REPO_ROOT
from tl_claims.data.spec import PHOTO_RESOLUTIONS
from tl_claims.data.validate import DataError

PHOTOS_ROOT = REPO_ROOT / "fixtures" / "tf_flowers"
CHECKSUMS = "SHA256SUMS"
ATTRIBUTION = "ATTRIBUTION.txt"  # the photographers, one line per file: kept beside the photos wherever they go
SMALL_SIDE = 128  # image sizes up to this read the 128-pixel photos; larger ones the 227-pixel photos


def resolution_for(image_size: int, asked: str = "") -> str:
    """The folder to read: the one asked for, else the smallest whose photos are at least `image_size` wide (so an
    image is never enlarged from 128 pixels when 227 are available)."""
    if asked:
        return asked
    return PHOTO_RESOLUTIONS[0] if image_size <= SMALL_SIDE else PHOTO_RESOLUTIONS[1]


def photo_folder(resolution: str, root: Path = PHOTOS_ROOT) -> Path:
    """The class-folder tree of one resolution, after every file was checked against `SHA256SUMS`."""
    folder = root / resolution
    if not (folder.is_dir() and (root / CHECKSUMS).is_file()):
        raise DataError(
            f"the tf_flowers photos are not at {folder} (they ship with the tl-claims repository, not with the "
            "wheel): run from a clone of the repository, or use --dataset tfds:tf_flowers where the network is "
            "reachable, or --dataset folder:PATH with your own class folders"
        )
    if not (folder / ATTRIBUTION).is_file():
        raise DataError(f"{folder / ATTRIBUTION} is missing: the photos' licence (CC BY 2.0) requires it beside them")
    check_against_sums(folder, root / CHECKSUMS)
    return folder


@functools.lru_cache(maxsize=4)
def check_against_sums(folder: Path, sums_file: Path) -> None:
    """Every listed photo is present with its digest, and no unlisted photo is in the folder; else one DataError
    naming each file (up to ten) and what is wrong with it."""
    listed = expected_digests(sums_file, folder.name)
    present = {path.relative_to(folder).as_posix() for path in folder.rglob("*.jpg")}
    problems = [f"{name}: missing" for name in sorted(set(listed) - present)]
    problems += [f"{name}: not listed in {sums_file.name}" for name in sorted(present - set(listed))]
    for name in sorted(present & set(listed)):
        if store.sha256_of(folder / name) != listed[name]:
            problems.append(f"{name}: changed (its SHA-256 differs from {sums_file.name})")
    if problems:
        shown = "; ".join(problems[:10]) + (f"; and {len(problems) - 10} more" if len(problems) > 10 else "")
        raise DataError(
            f"{folder}: {len(problems)} photo(s) do not match {sums_file}: {shown}. Restore the folder from the "
            "repository (git checkout -- fixtures/tf_flowers)"
        )


def expected_digests(sums_file: Path, resolution: str) -> dict[str, str]:
    """`class/file.jpg` -> SHA-256, for one resolution's lines of a `sha256sum`-style file."""
    digests = {}
    for line in sums_file.read_text(encoding="utf-8").splitlines():
        digest, _, name = line.partition("  ")
        head, _, rest = name.partition("/")
        if head == resolution and rest.endswith(".jpg"):
            digests[rest] = digest
    return digests
