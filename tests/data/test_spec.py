"""The one data-set spec parser: every accepted form, and errors that list what is allowed."""

import pytest

from tl_claims.data import DataError, parse_dataset_spec
from tl_claims.data.spec import DatasetSpec


@pytest.mark.parametrize(
    "text, kind, argument",
    [
        ("synthetic", "synthetic", "flowers"),
        ("synthetic:flowers", "synthetic", "flowers"),
        ("synthetic:objects", "synthetic", "objects"),
        ("tfds:tf_flowers", "tfds", "tf_flowers"),
        ("folder:/some/where", "folder", "/some/where"),
        ("folder:rel:with:colons", "folder", "rel:with:colons"),
    ],
)
def test_accepted_forms(text, kind, argument):
    assert parse_dataset_spec(text) == DatasetSpec(kind, argument)


@pytest.mark.parametrize(
    "text", ["", "imagenet", "synthetic:", "tfds:", "folder:", "ftp:x", "s3://bucket", "Synthetic"]
)
def test_unknown_forms_list_every_allowed_form(text):
    with pytest.raises(DataError) as error:
        parse_dataset_spec(text)
    message = str(error.value)
    for form in (
        "use tf_flowers",
        "tf_flowers:227px",
        "tfds:NAME",
        "folder:PATH",
        "synthetic:flowers",
        "synthetic:objects",
    ):
        assert form in message


def test_unknown_family_is_named_with_the_known_ones():
    with pytest.raises(DataError, match=r"unknown synthetic family 'cars'.*known families: flowers, objects"):
        parse_dataset_spec("synthetic:cars")


def test_require_folder_checks_the_path_only_when_asked(tmp_path):
    missing = f"folder:{tmp_path / 'nope'}"
    assert parse_dataset_spec(missing).kind == "folder"
    with pytest.raises(DataError, match="no folder at"):
        parse_dataset_spec(missing, require_folder=True)
    assert parse_dataset_spec(f"folder:{tmp_path}", require_folder=True).argument == str(tmp_path)


def test_non_text_is_a_data_error():
    with pytest.raises(DataError, match="as text"):
        parse_dataset_spec(None)  # type: ignore[arg-type]
