"""`python -m tl_claims data ...`: calibrate a synthetic family (or any source), and draw the data.

    python -m tl_claims data calibrate [--dataset SRC] [--json]
    python -m tl_claims data show [--dataset SRC] [--out FILE]
    python -m tl_claims data show-augmentations [--dataset SRC] [--out FILE] [--n N]

Every user error is a HarnessError (DataError, a missing backbone's weights, ...), which `tl_claims.cli` prints as a
message without a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from tl_claims.core.command_help import add_command
from tl_claims.core.errors import HarnessError
from tl_claims.core.limits import MAX_IMAGE_SIZE, MAX_SEED
from tl_claims.data.spec import HELP

if TYPE_CHECKING:
    from tl_claims.data.calibrate import CalibrationSettings

FIGURES = Path("results") / "figures"


def register(subparsers: argparse._SubParsersAction) -> None:
    data = add_command(
        subparsers,
        "data",
        "Calibrate a data set or draw pictures of it: the synthetic families, the shipped photos or your own.",
        [
            "tl-claims data calibrate --dataset synthetic:objects",
            "tl-claims data show --dataset tf_flowers --out flowers.png",
            "tl-claims data show-augmentations --n 6",
        ],
    )
    commands = data.add_subparsers(dest="data_command", required=True)
    register_calibrate(commands)

    show = add_command(
        commands,
        "show",
        "Draw a PNG grid of training images, one row per class.",
        ["tl-claims data show", "tl-claims data show --dataset folder:my_photos --per-class 10 --out mine.png"],
    )
    add_picture_options(show, FIGURES / "data-samples.png")
    show.add_argument("--per-class", type=int, default=6, help="images per class (default %(default)s)")
    show.set_defaults(handler=run_show)

    augmentations = add_command(
        commands,
        "show-augmentations",
        "Draw original training images next to augmented versions of them (PNG), as the lesson's exercise 1 asks.",
        ["tl-claims data show-augmentations", "tl-claims data show-augmentations --dataset tf_flowers --n 6"],
    )
    add_picture_options(augmentations, FIGURES / "augmentations.png")
    augmentations.add_argument("--n", type=int, default=4, help="augmented versions per original (default %(default)s)")
    augmentations.set_defaults(handler=run_show_augmentations)


def register_calibrate(commands: argparse._SubParsersAction) -> None:
    calibrate = add_command(
        commands,
        "calibrate",
        "Measure how learnable a data set is (colour histogram and frozen-feature probe) and check both gates.",
        ["tl-claims data calibrate", "tl-claims data calibrate --dataset synthetic:objects --json"],
    )
    calibrate.add_argument("--json", action="store_true", help="print only the accuracies, as JSON")
    calibrate.add_argument("--dataset", default="synthetic", help=HELP)
    calibrate.add_argument("--image-size", type=int, default=96, help="pixels per side (default %(default)s)")
    calibrate.add_argument("--n-train", type=int, default=50, help="training images per class (default %(default)s)")
    calibrate.add_argument("--n-test", type=int, default=100, help="test images per class (default %(default)s)")
    calibrate.add_argument("--seed", type=int, default=0, help="random seed (default %(default)s)")
    calibrate.set_defaults(handler=run_calibrate)


def add_picture_options(parser: argparse.ArgumentParser, default_out: Path) -> None:
    parser.add_argument("--dataset", default="synthetic", help=HELP)
    parser.add_argument("--out", type=Path, default=default_out, help=f"PNG file (default {default_out})")
    parser.add_argument("--image-size", type=int, default=96, help="pixels per side (default %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default %(default)s)")


def run_calibrate(args: argparse.Namespace) -> int:
    """Exit 0 when every gate holds, 1 when one misses (the failures go to stderr)."""
    from tl_claims.data.calibrate import CalibrationSettings, calibrate, gate_failures

    require_positive(n_train=args.n_train, n_test=args.n_test)
    require_in_range("--seed", args.seed, 0, MAX_SEED)
    require_in_range("--image-size", args.image_size, 8, MAX_IMAGE_SIZE)
    settings = CalibrationSettings(
        source=args.dataset,
        image_size=args.image_size,
        n_train=args.n_train,
        n_test=args.n_test,
        seed=args.seed,
    )
    results = calibrate(settings)
    failures = gate_failures(results)
    if args.json:
        print(json.dumps({key: round(value, 4) for key, value in results.items()}))
    else:
        print(format_calibration(results, settings))
    for failure in failures:
        print(f"gate missed: {failure}", file=sys.stderr)
    return 1 if failures else 0


def format_calibration(results: dict[str, float], settings) -> str:
    from tl_claims.data import calibrate as gates

    low, high = gates.PROBE_RANGE
    rules = {
        "color_histogram": f"<= {gates.COLOR_HISTOGRAM_MAX:.2f}",
        "linear_probe": f"in [{low:.2f}, {high:.2f}]",
    }
    lines = [
        f"calibration: {settings.source}, {settings.image_size} px, {settings.n_train} train / "
        f"{settings.n_test} test per class, seed {settings.seed}",
        f"  images: {calibration_images(settings)}",
    ]
    lines += [f"  {key:<18} {value:6.3f}   gate {rules[key]}" for key, value in results.items()]
    return "\n".join(lines)


def calibration_images(settings: CalibrationSettings) -> str:
    """Where the calibration's images come from, in words."""
    from tl_claims.data.spec import parse_dataset_spec
    from tl_claims.data.streams import SYNTHETIC_STREAMS

    if parse_dataset_spec(settings.source).kind != "synthetic":
        return "the source's own splits (no second stream: the same images the claims use)"
    seeds = "/".join(str(seed) for seed in SYNTHETIC_STREAMS["calibration"].values())
    return f"the calibration's own generator streams (train/val/test seeds {seeds}), never read by a claim"


def run_show(args: argparse.Namespace) -> int:
    from tl_claims.data.show import sample_grid

    require_positive(per_class=args.per_class)
    check_picture_options(args)
    splits = picture_splits(args.dataset, args.image_size, args.per_class, args.seed)
    with picture_written_to(args.out):
        print(f"wrote {sample_grid(splits, args.out, args.per_class)}")
    return 0


def run_show_augmentations(args: argparse.Namespace) -> int:
    from tl_claims.data.show import augmentation_grid

    require_positive(n=args.n)
    check_picture_options(args)
    splits = picture_splits(args.dataset, args.image_size, 1, args.seed)
    with picture_written_to(args.out):
        print(f"wrote {augmentation_grid(splits, args.out, args.n, args.seed)}")
    return 0


def check_picture_options(args: argparse.Namespace) -> None:
    """Seed, image size and output path, checked before any image is loaded."""
    require_in_range("--seed", args.seed, 0, MAX_SEED)
    require_in_range("--image-size", args.image_size, 8, MAX_IMAGE_SIZE)
    check_writable(Path(args.out))


def require_in_range(option: str, value: int, low: int, high: int) -> None:
    if not low <= value <= high:
        raise HarnessError(f"{option}={value}: must be between {low} and {high}")


def check_writable(out: Path) -> None:
    """`--out` must name a file we can create: not a folder, under a folder we may write to (created if missing)."""
    if out.is_dir():
        raise HarnessError(f"--out {out}: is a folder; give a file name, e.g. {out / 'picture.png'}")
    existing = next((folder for folder in out.absolute().parents if folder.exists()), Path("/"))
    if not existing.is_dir():
        raise HarnessError(f"--out {out}: {existing} is a file, so no folder can be made under it")
    if not os.access(existing, os.W_OK | os.X_OK) or (out.exists() and not os.access(out, os.W_OK)):
        raise HarnessError(f"--out {out}: not writable here (permission denied); choose another path")


@contextlib.contextmanager
def picture_written_to(out: Path) -> Iterator[None]:
    """Whatever still goes wrong writing the picture (a full disk, a race) is one line naming the path."""
    try:
        yield
    except OSError as error:
        raise HarnessError(f"--out {out}: could not write the picture ({error.strerror or error})") from None


def picture_splits(source: str, image_size: int, per_class: int, seed: int):
    """Just enough images for a picture: `per_class` training images, one test image, no val."""
    from tl_claims.data.sources import DataConfig, load_splits

    return load_splits(DataConfig(source=source, image_size=image_size, n_train=per_class, n_val=0, n_test=1), seed)


def require_positive(**values: int) -> None:
    bad = [f"--{name.replace('_', '-')}={value}" for name, value in values.items() if value < 1]
    if bad:
        raise HarnessError(f"{', '.join(bad)}: must be at least 1")
