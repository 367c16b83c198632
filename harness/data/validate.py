"""Bad input: a user's image folder is checked completely before anything trains, and every problem is reported at once.

`keras.utils.image_dataset_from_directory` fails late and unhelpfully on some inputs (a corrupt file stops an epoch
half-way with a TensorFlow op error that does not name the file) and silently on others (an empty class folder
still becomes a label; images outside a class folder are skipped). So `inspect_folder` walks the tree the way the
loader does (class sub-folders, recursively, files with the loader's extensions), opens every image with PIL
(`verify()`, then a full decode) and decides per case:

| input                                                     | decision                                              |
|-----------------------------------------------------------|-------------------------------------------------------|
| missing path, or a file instead of a folder               | DataError: the path and how to point at a folder      |
| no class sub-folders / images lying outside class folders | DataError: move images into one folder per class      |
| a single class                                            | DataError: classification needs at least two classes  |
| an empty class folder (no file with an image extension)   | DataError: add images or delete the folder            |
| class names differ between train/ val/ test/              | DataError: the names each split lacks or adds         |
| both val/ and validation/, or split and class folders mixed | DataError: which folder to rename                   |
| corrupt or truncated JPEG (or PNG, ...)                   | DataError: the file; re-export or delete it           |
| a non-image file with an image extension                  | DataError: the file; delete or rename it              |
| grayscale (L) JPEG/PNG                                    | loads: the loader repeats the channel into RGB        |
| 16-bit PNG (grey or RGB)                                  | loads: the loader scales 0..65535 to 0..255           |
| palette PNG/GIF without transparency                      | loads: the loader expands the palette                 |
| RGBA, LA or palette with transparency                     | loads, converted: alpha composited over white         |
| CMYK JPEG, or any other PIL-readable mode or format       | loads, converted to RGB by PIL                        |
| files without an image extension (.txt, .DS_Store)        | ignored, as the loader ignores them                   |
| fewer images than n_train + n_val + n_test asks for       | DataError (raised by the splitter) naming the counts  |

Why composite alpha over white instead of letting the loader drop it: transparent pixels often hold black or
arbitrary colours that nobody saw when labelling; white is what a viewer shows. Conversions are written to a
normalised copy of the tree in the cache (see `sources.py`); the user's folder is never modified.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from harness.errors import HarnessError

IMAGE_EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")  # what image_dataset_from_directory reads
SPLIT_NAMES = {"train": "train", "val": "val", "validation": "val", "test": "test"}
LOADER_FORMATS = {"JPEG", "PNG", "BMP", "GIF"}  # decoded by tf.io.decode_image
LOADER_MODES = {"RGB", "L", "I;16", "I;16B", "P"}  # modes the loader turns into RGB correctly (checked in tests)
ALPHA_MODES = {"RGBA", "LA", "PA", "RGBa", "La"}
MAX_LISTED = 25  # problems listed in one message; the rest are counted


class DataError(HarnessError):
    """A data source cannot be used as it is; the message names the file or folder and the fix."""


@dataclass(frozen=True)
class Problem:
    path: Path
    what: str
    fix: str

    def __str__(self) -> str:
        return f"{self.path}: {self.what}; {self.fix}"


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
                needs_conversion = check_image(path, problems)
                if needs_conversion:
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
    """Files the loader would read: recursive, by extension (case-insensitive), sorted."""
    return sorted(p for p in class_dir.rglob("*") if p.is_file() and p.name.lower().endswith(IMAGE_EXTENSIONS))


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


def check_image(path: Path, problems: list[Problem]) -> bool:
    """Decode the file fully; record a Problem if it cannot be used. Returns whether it must be converted."""
    try:
        with Image.open(path) as image:
            image.verify()  # structure and checksums, without decoding pixels
        with Image.open(path) as image:
            image.load()  # the full decode: catches truncated data that verify() lets through
            image_format, mode, info = image.format, image.mode, image.info
    except UnidentifiedImageError:
        problems.append(
            Problem(
                path,
                "is not an image although its extension says so",
                "delete it, or rename it without an image extension so the loader skips it",
            )
        )
        return False
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as error:
        problems.append(
            Problem(
                path,
                f"cannot be decoded ({error})",
                "the file is corrupt or truncated: re-export or re-download it, or delete it",
            )
        )
        return False
    return needs_conversion(image_format, mode, info)


def needs_conversion(image_format: str | None, mode: str, info: dict) -> bool:
    """True when the loader would read the file wrongly or not at all, so PIL converts it first."""
    if image_format not in LOADER_FORMATS or mode not in LOADER_MODES:
        return True
    return mode == "P" and "transparency" in info


def to_rgb(image: Image.Image) -> Image.Image:
    """RGB version of any PIL image: 16/32-bit grey scaled (not clipped), alpha composited over white."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        import numpy as np

        pixels = np.asarray(image, dtype=np.float64)
        sixteen_bit = image.mode.startswith("I;16") or pixels.max(initial=0) > 255
        scale = 65535.0 if sixteen_bit else 255.0
        return Image.fromarray(np.clip(pixels / scale * 255 + 0.5, 0, 255).astype(np.uint8)).convert("RGB")
    if image.mode in ALPHA_MODES or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return image.convert("RGB")
