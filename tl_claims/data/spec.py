"""The one parser for data-set specs: `tf_flowers[:128px|227px]`, `synthetic[:FAMILY]`, `tfds:NAME`, `folder:PATH`.

Every place that takes a data set by name (DataConfig, `python -m tl_claims data ...`, pytest's `--dataset`) goes
through `parse_dataset_spec`, so the forms accepted and the error that lists them are the same everywhere.
`synthetic` alone means `synthetic:flowers`, the default family; `tf_flowers` alone means the shipped photos of the
resolution the image size needs (tl_claims/data/photos.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tl_claims.data.families import DEFAULT_FAMILY, FAMILIES
from tl_claims.data.validate import DataError

KINDS = ("tf_flowers", "synthetic", "tfds", "folder")
PHOTO_RESOLUTIONS = ("128px", "227px")  # the shipped tf_flowers folders (fixtures/tf_flowers/)


def allowed_forms() -> str:
    """The accepted forms, as one phrase for help texts and error messages."""
    families = ", ".join(f"synthetic:{name}" for name in FAMILIES)
    return (
        "use tf_flowers (the shipped photos; tf_flowers:128px or tf_flowers:227px for one resolution), "
        f"synthetic, tfds:NAME (e.g. tfds:tf_flowers), folder:PATH (a folder with one sub-folder per "
        f"class) or a synthetic family ({families}; plain synthetic is synthetic:{DEFAULT_FAMILY})"
    )


HELP = "tf_flowers[:128px|227px] | synthetic | synthetic:" + "|synthetic:".join(FAMILIES) + " | tfds:NAME | folder:PATH"


@dataclass(frozen=True)
class DatasetSpec:
    kind: str  # one of KINDS
    argument: str  # the photos' resolution ("" : chosen by image size), the family, the tfds name or the folder path

    def __str__(self) -> str:
        return f"{self.kind}:{self.argument}" if self.argument else self.kind


def parse_dataset_spec(text: str, require_folder: bool = False) -> DatasetSpec:
    """`text` as a DatasetSpec, or a DataError that lists every allowed form.

    With `require_folder`, a `folder:PATH` whose PATH is not a directory is an error here already (option
    checking); the loader's full validation of the folder's contents comes later.
    """
    if not isinstance(text, str):
        raise DataError(f"data set must be given as text, got {text!r}; {allowed_forms()}")
    if text == "synthetic":
        return DatasetSpec("synthetic", DEFAULT_FAMILY)
    kind, _, argument = text.partition(":")
    if kind == "tf_flowers" and argument in ("", *PHOTO_RESOLUTIONS):
        return DatasetSpec(kind, argument)
    if kind == "tf_flowers":
        raise DataError(
            f"unknown tf_flowers resolution {argument!r} in {text!r}; shipped: {', '.join(PHOTO_RESOLUTIONS)}"
        )
    if kind == "synthetic" and argument in FAMILIES:
        return DatasetSpec(kind, argument)
    if kind == "synthetic":
        raise DataError(
            f"unknown synthetic family {argument!r} in {text!r}; known families: "
            f"{', '.join(FAMILIES)}. {allowed_forms()}"
        )
    if kind in ("tfds", "folder") and argument:
        if kind == "folder" and require_folder and not Path(argument).expanduser().is_dir():
            raise DataError(
                f"no folder at {Path(argument).expanduser().resolve()}; give a folder with one "
                "sub-folder of images per class"
            )
        return DatasetSpec(kind, argument)
    raise DataError(f"unknown data source {text!r}; {allowed_forms()}")
