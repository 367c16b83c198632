"""Exactly one owner of tensorflow/ on every platform TensorFlow publishes wheels for, with and without the gpu extra;
elsewhere tl-claims installs without it and first use prints the platform message (resolution.py has the method)."""

import pytest
import resolution

from tl_claims.core.install_check import TENSORFLOW_PLATFORMS, missing_tensorflow_message

pytestmark = pytest.mark.install


@pytest.fixture(scope="module")
def resolutions(wheel, tmp_path_factory) -> dict:
    found = resolution.resolve_all(wheel, tmp_path_factory.mktemp("pure-python-wheels"))
    print(resolution.table(found))
    return {(r.platform.name, r.extra): r for r in found}


@pytest.mark.parametrize("extra", ["", "gpu"])
@pytest.mark.parametrize("platform", resolution.PLATFORMS, ids=lambda platform: platform.name)
def test_one_tensorflow_where_it_has_wheels_none_and_a_message_elsewhere(resolutions, platform, extra):
    found = resolutions[(platform.name, extra)]
    assert found.ok, found.error
    if (platform.system, platform.machine) in TENSORFLOW_PLATFORMS:
        assert [owner.split("==")[0] for owner in found.tensorflow] == ["tensorflow"]
        assert "keras" in found.installed and "tensorflow-datasets" in found.installed
    else:
        assert found.tensorflow == []
        assert f"({platform.system} {platform.machine})" in missing_tensorflow_message(
            platform.system, platform.machine
        )
    cuda_expected = extra == "gpu" and platform.name == "linux-x86_64"
    assert bool(found.cuda) == cuda_expected
