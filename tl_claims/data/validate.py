"""Bad input: a user's image folder is checked completely before anything trains, and every problem is reported at once.

`keras.utils.image_dataset_from_directory` fails late and unhelpfully on some inputs (a corrupt file stops an epoch
half-way with a TensorFlow op error that does not name the file; a dangling link or a Latin-1 name is an "internal
error"; a named pipe blocks forever) and silently on others (an empty class folder still becomes a label; images
outside a class folder are skipped). So `inspect_folder` walks the tree the way the loader does (class sub-folders,
`os.walk` without following folder links, every non-folder entry with the loader's extensions), decides from each
entry's metadata whether it is a regular file (links resolved; pipes and devices refused by name, never opened),
decodes every image with the shared decoder (`decode.py`: `verify()`, then a full decode within Pillow's pixel
limit) and collects every problem into one DataError. What each case does, and the test that shows it:
docs/bad-input.md.

The rules of the decoding itself (modes, bit depths, EXIF orientation, alpha over white, the pixel limit) are the
decoder's, shared with `predict`. A file TensorFlow's loader would read differently (`needs_conversion`) is converted
by that decoder into a normalised copy of the tree in the cache (`folders.py`); the user's folder is never modified.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from tl_claims.core.errors import HarnessError
from tl_claims.data import decode
from tl_claims.data.decode import readable

IMAGE_EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")  # what image_dataset_from_directory reads
SPLIT_NAMES = {"train": "train", "val": "val", "validation": "val", "test": "test"}
# Decoded by tf.io.decode_image as the shared decoder does. Not BMP: TensorFlow reads only 24/32-bit BMPs; a palette
# BMP comes out black and a 1-, 4- or 16-bit one fails naming no file, so every BMP goes through the decoder.
LOADER_FORMATS = {"JPEG", "PNG", "GIF"}
LOADER_MODES = {"RGB", "L", "I;16", "I;16B", "P"}  # modes the loader turns into RGB correctly (checked in tests)
MAX_LISTED = 25  # problems listed in one message; the rest are counted


class DataError(HarnessError):
    """A data source cannot be used as it is; the message names the file or folder and the fix."""


class TooFewPhotos(DataError):
    """The data set is fine, but smaller than what one experiment asks of it (a learning curve's largest size): that
    experiment is skipped with this reason, the others run."""


@dataclass(frozen=True)
class Problem:
    path: Path
    what: str
    fix: str

    def __str__(self) -> str:
        return f"{readable(self.path)}: {self.what}; {self.fix}"


def utf8_name(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes, kept by Python as surrogates
        return False
    return True


@dataclass
class FolderReport:
    """What a valid folder holds: its split folders, class names, image files and which need converting."""

    root: Path
    splits: dict[str, Path]  # "all" for a plain class tree, else "train" and optionally "val", "test"
    class_names: tuple[str, ...]
    files: dict[str, dict[str, list[Path]]] = field(default_factory=dict)  # split -> class -> files
    to_convert: list[Path] = field(default_factory=list)


def raise_problems(problems: list[Problem], where: Path) -> None:
    """One DataError that lists every problem (so a user fixes them in one pass, not one per run)."""
    if not problems:
        return
    lines = [f"{len(problems)} problem(s) in {where}; nothing was trained:"]
    lines += [f"  - {problem}" for problem in problems[:MAX_LISTED]]
    if len(problems) > MAX_LISTED:
        lines.append(f"  ... and {len(problems) - MAX_LISTED} more")
    raise DataError("\n".join(lines))


def inspect_folder(root: Path) -> FolderReport:
    """Check a folder source end to end; raise one DataError listing every problem, else describe what to load."""
    root = Path(root).expanduser()
    if not root.exists():
        raise DataError(
            f"{root}: no such folder; check the path in folder:PATH (it is read relative to "
            f"the current directory {Path.cwd()})"
        )
    if not root.is_dir():
        raise DataError(f"{root}: is a file, not a folder; folder:PATH wants a folder with one sub-folder per class")
    problems: list[Problem] = []
    splits = find_splits(root, problems)
    report = FolderReport(root=root, splits=splits, class_names=())
    class_sets = {}
    for split, split_dir in splits.items():
        class_sets[split] = find_classes(split_dir, problems)
        report.files[split] = {name: image_files(split_dir / name) for name in class_sets[split]}
    check_class_names(root, class_sets, problems)
    for split, classes in report.files.items():
        for class_name, files in classes.items():
            if not files:
                problems.append(
                    Problem(
                        splits[split] / class_name,
                        "empty class folder (no .jpg/.jpeg/.png/.bmp/.gif file)",
                        "add images of this class or delete the folder",
                    )
                )
            for path in files:
                problem = entry_problem(path)
                if problem is not None:
                    problems.append(problem)
                elif check_image(path, problems):
                    report.to_convert.append(path)
    raise_problems(problems, root)
    report.class_names = tuple(sorted(class_sets["train" if "train" in class_sets else "all"]))
    return report


def find_splits(root: Path, problems: list[Problem]) -> dict[str, Path]:
    """`{"all": root}` for a plain class tree, else the train/val/test folders it has."""
    folders = subfolders(root)
    split_folders = [f for f in folders if f.name in SPLIT_NAMES]
    if not split_folders:
        return {"all": root}
    others = [f.name for f in folders if f.name not in SPLIT_NAMES]
    if others:
        problems.append(
            Problem(
                root,
                f"mixes split folders ({', '.join(f.name for f in split_folders)}) with other "
                f"folders ({', '.join(others)})",
                "put every class folder inside train/ (and val/, test/), or remove the split folders",
            )
        )
    splits: dict[str, Path] = {}
    for folder in split_folders:
        split = SPLIT_NAMES[folder.name]
        if split in splits:
            problems.append(
                Problem(root, f"has both {splits[split].name}/ and {folder.name}/", "keep one validation folder")
            )
        splits[split] = folder
    if "train" not in splits:
        problems.append(Problem(root, "has val/ or test/ but no train/", "add a train/ folder with class folders"))
        return {"all": root}
    return splits


def subfolders(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def find_classes(split_dir: Path, problems: list[Problem]) -> list[str]:
    classes = [p.name for p in subfolders(split_dir)]
    for name in classes:
        if not utf8_name(name):
            problems.append(
                Problem(
                    split_dir / name,
                    "this class folder's name is not valid UTF-8, which TensorFlow's loader cannot read",
                    "rename the folder with plain or UTF-8 characters",
                )
            )
    loose = sorted(p.name for p in split_dir.iterdir() if p.is_file() and p.name.lower().endswith(IMAGE_EXTENSIONS))
    if loose:
        problems.append(
            Problem(
                split_dir,
                f"{len(loose)} image(s) outside any class folder (e.g. {loose[0]}); the loader ignores them",
                "move each image into the folder named after its class",
            )
        )
    if not classes:
        problems.append(
            Problem(
                split_dir,
                "has no class sub-folders",
                "make one sub-folder per class (daisy/, roses/, ...) holding its images",
            )
        )
    elif len(classes) == 1:
        problems.append(
            Problem(
                split_dir,
                f"has a single class folder ({classes[0]}/)",
                "classification needs at least two classes: add a folder for another class",
            )
        )
    return classes


def image_files(class_dir: Path) -> list[Path]:
    """Entries the loader would read, as it finds them: `os.walk` without following folder links, every non-folder
    entry whose name ends in an image extension (case-insensitive) -- links, pipes and devices included -- sorted."""
    found = []
    for folder, _, names in os.walk(class_dir, followlinks=False):
        found += [Path(folder) / name for name in names if name.lower().endswith(IMAGE_EXTENSIONS)]
    return sorted(found)


NOT_A_FILE = {
    stat.S_IFIFO: "a named pipe",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
    stat.S_IFDIR: "a folder",
}


def entry_problem(path: Path) -> Problem | None:
    """Why the loader cannot read this entry as a file (decided from its metadata: a pipe is never opened)."""
    if not utf8_name(path.name):
        return Problem(
            path,
            "its name is not valid UTF-8 (a Latin-1 or other legacy encoding), which TensorFlow's loader cannot read",
            "rename it with plain or UTF-8 characters",
        )
    try:
        target = path.resolve(strict=True) if path.is_symlink() else path
        mode = target.stat().st_mode
    except FileNotFoundError:
        return Problem(path, f"is a symbolic link to {readable(os.readlink(path))}, which does not exist", LINK_FIX)
    except (RuntimeError, OSError) as error:  # ELOOP (RuntimeError from resolve on some versions), EACCES, ...
        what = "a symbolic link that loops" if "loop" in str(error).lower() else f"unreadable ({error.strerror})"
        return Problem(path, f"is {what}", LINK_FIX)
    if stat.S_ISREG(mode):
        return None
    kind = NOT_A_FILE.get(stat.S_IFMT(mode), "not a regular file")
    where = f"a symbolic link to {kind} ({readable(target)})" if target != path else kind
    return Problem(path, f"is {where}, not an image file; it was not opened", "delete it or replace it with the image")


LINK_FIX = "point the link at an existing image file, or delete it"


def check_class_names(root: Path, class_sets: dict[str, list[str]], problems: list[Problem]) -> None:
    """Every split must have the same class folders, or labels would mean different things in each split."""
    if "train" not in class_sets:
        return
    reference = set(class_sets["train"])
    for split, names in class_sets.items():
        missing, extra = sorted(reference - set(names)), sorted(set(names) - reference)
        if missing or extra:
            detail = "; ".join(
                part for part in (f"lacks {missing}" if missing else "", f"has extra {extra}" if extra else "") if part
            )
            problems.append(
                Problem(
                    root / split if split != "all" else root,
                    f"class folders differ from train/: {detail}",
                    "use the same class folder names in train/, val/ and test/",
                )
            )


# The decoder's fix suits one file given on a command line; in a folder, renaming also works (the loader skips it).
FOLDER_FIXES = {decode.NotAnImage: "delete it, or rename it without an image extension so the loader skips it"}


def check_image(path: Path, problems: list[Problem]) -> bool:
    """Decode the file fully with the shared decoder; record a Problem if it cannot be used. Returns whether the
    loader would misread it, so it must be converted first."""
    try:
        with decode.loaded(path) as image:
            return needs_conversion(image)
    except decode.ImageError as error:
        problems.append(Problem(path, error.what, FOLDER_FIXES.get(type(error), error.fix)))
        return False


def needs_conversion(image: Image.Image) -> bool:
    """True when TensorFlow's loader would read the file other than the shared decoder does, or not at all: a mode
    or format it misreads, an EXIF orientation (the loader ignores it), a transparent palette colour."""
    if image.format not in LOADER_FORMATS or image.mode not in LOADER_MODES:
        return True
    if decode.orientation(image) not in (None, 1):
        return True
    return image.mode == "P" and "transparency" in image.info
