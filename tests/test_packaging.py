"""pyproject.toml and constraints.txt: ranges for users, exact verified versions for make, complete package data."""

import re
import tomllib

from tl_claims import __version__
from tl_claims.core.paths import REPO_ROOT
from tl_claims.resources import DOCS, resource

PYPROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
NAME = re.compile(r"^[A-Za-z0-9._-]+")


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_names(requirements: list[str]) -> set[str]:
    return {normalise(NAME.match(requirement).group(0)) for requirement in requirements}


def constraints() -> dict[str, str]:
    lines = (REPO_ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines()
    pins = [line.split("==") for line in lines if line and not line.startswith("#")]
    return {normalise(name): version for name, version in pins}


def test_runtime_dependencies_are_ranges_never_exact_pins():
    specifiers = [requirement.split(";")[0] for requirement in PYPROJECT["project"]["dependencies"]]
    assert not [
        specifier for specifier in specifiers if "==" in specifier or ("<" not in specifier and ">" not in specifier)
    ]


def test_every_dependency_and_dev_tool_has_its_verified_version_in_constraints():
    extras = PYPROJECT["project"]["optional-dependencies"]
    declared = requirement_names(PYPROJECT["project"]["dependencies"] + extras["dev"] + extras["jax"])
    assert declared - set(constraints()) == set()
    assert constraints()["tensorflow"] == "2.21.0" and "tensorflow-cpu" not in constraints()
    assert {"pip", "uv"} <= set(constraints())  # the installers `make install` runs are pinned too
    assert constraints()["jax"] == constraints()["jaxlib"]  # make test-backends' JAX: one release of both


def test_one_tensorflow_distribution_everywhere_and_the_gpu_extra_adds_cuda_to_it():
    everything = PYPROJECT["project"]["dependencies"] + PYPROJECT["project"]["optional-dependencies"]["gpu"]
    owners = [
        requirement
        for requirement in everything
        if normalise(NAME.match(requirement).group(0)).startswith(("tensorflow", "tf-nightly", "intel-tensorflow"))
        and "datasets" not in requirement
    ]
    assert [NAME.match(requirement).group(0) for requirement in owners] == ["tensorflow", "tensorflow"]
    assert PYPROJECT["project"]["optional-dependencies"]["gpu"][0].startswith("tensorflow[and-cuda]")


def test_version_license_and_package_data_are_declared():
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "tl_claims.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", __version__)
    assert PYPROJECT["project"]["license"] == "Apache-2.0"
    assert "Apache License" in (REPO_ROOT / "LICENSE").read_text(encoding="utf-8")
    patterns = PYPROJECT["tool"]["setuptools"]["package-data"]["tl_claims.resources"]
    shipped = [
        path.name
        for path in (REPO_ROOT / "tl_claims" / "resources").iterdir()
        if path.suffix != ".py" and not path.name.startswith(".") and path.is_file()
    ]
    assert shipped and all(any(name.endswith(pattern.lstrip("*")) for pattern in patterns) for name in shipped)
    assert all(
        resource(name).is_file()
        for name in [*(name for names in DOCS.values() for name in names.values()), "imagenet_classes.json"]
    )
