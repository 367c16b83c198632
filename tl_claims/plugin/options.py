"""The claims plugin's command line, kept apart so that every way an option can be wrong is caught in one place and
at start: the `tl-claims` option group, the overrides of the scale presets (checked by the scales themselves, so a
typo stops the session before any training) and the start-up checks, where an unwritable `--results-dir` (or a
scale folder inside it) or `--cache-dir`, or a `--dataset` that cannot be read, stops the session in one sentence
instead of failing every test with a traceback.
"""

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tl_claims.core.errors import HarnessError
from tl_claims.recipe.scales import SCALES

# tl_claims.data (numpy) and tensorflow_datasets are imported inside the checks that need them, only when --dataset
# names a source: importing the plugin stays cheap and loads neither TensorFlow, Keras nor pandas.

if TYPE_CHECKING:
    from tl_claims.plugin.session import ClaimsSession


def add_options(parser: pytest.Parser) -> None:
    """The `tl-claims` group: the options that override each scale's preset, and where results and caches go."""
    group = parser.getgroup("tl-claims", "tl-claims: verify the transfer-learning lesson's claims")
    group.addoption("--backbone", default=None, help="backbone for every scale (default: each scale's preset)")
    group.addoption(
        "--dataset", default=None, help="synthetic[:flowers|objects] | tfds:NAME | folder:PATH (default: preset)"
    )
    group.addoption(
        "--seeds",
        type=seeds_option,
        default=None,
        help="number of seeds, 0..N-1, or 'auto': 5 seeds, 7 and 10 for rows still undecided, with "
        "O'Brien-Fleming alpha spending (default: preset)",
    )
    group.addoption("--image-size", type=int, default=None, help="image side in pixels (default: preset)")
    group.addoption("--n-train", type=int, default=None, help="training images per class (default: preset)")
    group.addoption(
        "--dry-run",
        action="store_true",
        help="every scale at the smoke sizes, its backbone, data and recipe kept (Scale.dry_run): the code paths of "
        "a scale this machine cannot afford, rows under <results-dir>/<scale>_dry/, no verdict asserted",
    )
    group.addoption("--results-dir", default="results", help="where tables, figures and logs go (default: results)")
    group.addoption(
        "--cache-dir",
        default=None,
        help="cache of weights, data, features, models (default: $TL_CLAIMS_CACHE or ~/.cache/tl-claims)",
    )


def seeds_option(text: str) -> int | str:
    """`--seeds N` or `--seeds auto`."""
    if text == "auto":
        return text
    try:
        return int(text)
    except ValueError:
        raise pytest.UsageError(f"--seeds takes a number of seeds or 'auto' (got {text!r})") from None


def validated_overrides(config: pytest.Config) -> dict:
    """Options that override the scale presets, checked now (by the scales themselves) so a typo stops the
    session before any training."""
    option = config.getoption
    overrides = {
        "backbone": option("--backbone"),
        "dataset": option("--dataset"),
        "seeds": option("--seeds"),
        "image_size": option("--image-size"),
        "n_train": option("--n-train"),
    }
    try:
        for scale in SCALES.values():
            scale.override(**overrides)
    except HarnessError as error:
        raise pytest.UsageError(str(error)) from None
    return overrides


# Where a run creates files inside each scale's folder (rows under runs/, a class's outcomes under homework/, the
# tables in the folder itself), and the files it appends to in place there.
SCALE_FOLDERS = ("", "runs", "homework")
APPENDED_FILES = ("progress.log",)


def check_outputs_writable(session: "ClaimsSession") -> None:
    """Stop at start, in one sentence, when results or caches could not be written (not after the first arm): the
    results folder, every place a run writes inside an existing scale folder (`results/<scale>/` left read-only by
    another user or a copy), and the cache."""
    for option, path, reason in (
        ("--results-dir", session.results_dir, results_reason(session.results_dir)),
        ("--cache-dir", session.cache_dir, unwritable_reason(session.cache_dir)),
    ):
        if reason:
            raise pytest.UsageError(f"{option} {path}: {reason}; give a folder this user can write to.")


def results_reason(results_dir: Path) -> str | None:
    """Why a claims run could not write its results under `results_dir`, or None."""
    reason = unwritable_reason(results_dir)
    if reason:
        return reason  # first: inside an unreadable folder nothing else can be looked at
    for scale in SCALES:
        for folder in (results_dir / scale / name for name in SCALE_FOLDERS):  # the scale's own folder first
            if folder.exists() and (reason := unwritable_reason(folder)):
                return reason
        for file in (results_dir / scale / name for name in APPENDED_FILES):
            if file.exists() and not os.access(file, os.W_OK):
                return f"cannot append to {file} (permission denied)"
    return None


def unwritable_reason(path: Path) -> str | None:
    """Why files could not be created under `path` (which need not exist yet), or None. Tried for real, with a
    temporary file in its nearest existing folder, so read-only mounts are caught too; nothing is left behind."""
    existing = Path(path).expanduser().absolute()
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        return f"{existing} is a file, not a folder"
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as error:
        return f"cannot write in {existing} ({error.strerror or error})"
    return None


def check_data_source(spec: str | None, cache_dir: Path) -> None:
    """A `--dataset folder:` tree is validated and a `tfds:` name looked up now, so a bad source stops the session
    in one sentence instead of failing every test with a traceback. Presets are not checked (nothing was typed)."""
    if not spec:
        return
    from tl_claims.data.spec import parse_dataset_spec

    try:
        parsed = parse_dataset_spec(spec, require_folder=True)
        if parsed.kind == "folder":
            from tl_claims.data.validate import inspect_folder

            inspect_folder(Path(parsed.argument).expanduser())
        elif parsed.kind == "tfds":
            _check_tfds_name(parsed.argument)
    except HarnessError as error:
        raise pytest.UsageError(f"--dataset {spec}: {_one_sentence(str(error))}") from None


def _check_tfds_name(name: str) -> None:
    from tl_claims.core.install_check import has_tensorflow
    from tl_claims.data.validate import DataError

    if not has_tensorflow():  # JAX or PyTorch alone: TensorFlow Datasets cannot load
        raise DataError(f"tfds:{name} needs TensorFlow Datasets, hence TensorFlow; use folder:PATH without it")
    import tensorflow_datasets as tfds

    try:
        tfds.builder(name)
    except Exception as error:  # unknown name, bad config: tfds raises several types
        raise DataError(f"TensorFlow Datasets has no data set {name!r} ({type(error).__name__})") from None


def _one_sentence(text: str) -> str:
    return " ".join(text.split())
