"""Resolve tl-claims' dependencies for each platform with pip's own resolver: which TensorFlow would be installed?

    python tests/install/resolution.py WHEEL        # a table: platform, extra, owners of tensorflow/, CUDA packages

`pip install --dry-run --report` with `--platform`, `--python-version`, `--implementation` and `--abi` picks wheels
for another machine, but pip evaluates environment markers (`sys_platform == 'darwin'`, ...) against the machine it
runs on. So pip runs here in a child interpreter whose `packaging.markers.default_environment` (pip's vendored copy)
returns the target machine's marker values: the same resolver, answering for that machine. Needs the index (PyPI).

A platform-restricted resolution accepts wheels only. A dependency published only as an sdist (tensorflow-datasets'
`promise`) is built here once into a pure-Python wheel (`pure_python_wheels`) and offered with --find-links.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

PYTHON = "3.12"  # Colab's; requires-python allows 3.11 and 3.12
# distributions that install the `tensorflow/` package directory
TENSORFLOW_OWNERS = {
    "tensorflow",
    "tensorflow-cpu",
    "tensorflow-gpu",
    "tensorflow-intel",
    "tensorflow-macos",
    "tensorflow-aarch64",
    "tensorflow-cpu-aws",
    "intel-tensorflow",
    "tf-nightly",
    "tf-nightly-cpu",
}


@dataclass(frozen=True)
class Platform:
    name: str
    system: str  # platform.system()
    machine: str  # platform.machine()
    sys_platform: str
    tags: tuple[str, ...]  # wheel platform tags this machine accepts

    def markers(self) -> dict[str, str]:
        return {
            "implementation_name": "cpython",
            "implementation_version": f"{PYTHON}.0",
            "os_name": "nt" if self.system == "Windows" else "posix",
            "platform_machine": self.machine,
            "platform_release": "",
            "platform_system": self.system,
            "platform_version": "",
            "python_full_version": f"{PYTHON}.0",
            "platform_python_implementation": "CPython",
            "python_version": PYTHON,
            "sys_platform": self.sys_platform,
        }


def _manylinux(arch: str) -> tuple[str, ...]:
    return (*(f"manylinux_2_{minor}_{arch}" for minor in range(39, 16, -1)), f"manylinux2014_{arch}", f"linux_{arch}")


def _macos(arch: str) -> tuple[str, ...]:
    versions = [(15, 0), (14, 0), (13, 0), (12, 0), (11, 0)] + [(10, minor) for minor in range(16, 8, -1)]
    return tuple(f"macosx_{major}_{minor}_{kind}" for major, minor in versions for kind in (arch, "universal2"))


PLATFORMS = (
    Platform("linux-x86_64", "Linux", "x86_64", "linux", _manylinux("x86_64")),
    Platform("linux-aarch64", "Linux", "aarch64", "linux", _manylinux("aarch64")),
    Platform("macos-arm64", "Darwin", "arm64", "darwin", _macos("arm64")),
    Platform("windows-x86_64", "Windows", "AMD64", "win32", ("win_amd64",)),
    Platform("macos-x86_64", "Darwin", "x86_64", "darwin", _macos("x86_64")),  # no TensorFlow wheel
    Platform("windows-arm64", "Windows", "ARM64", "win32", ("win_arm64",)),  # no TensorFlow wheel
)

RUN_PIP = """
import json, sys
import pip._vendor.packaging.markers as markers
environment = json.loads(sys.argv[1])
markers.default_environment = lambda: dict(environment)
from pip._internal.cli.main import main
sys.exit(main(sys.argv[2:]))
"""


@dataclass(frozen=True)
class Resolution:
    platform: Platform
    extra: str
    ok: bool
    installed: dict[str, str]  # name -> version
    error: str

    @property
    def tensorflow(self) -> list[str]:
        return sorted(f"{name}=={version}" for name, version in self.installed.items() if name in TENSORFLOW_OWNERS)

    @property
    def cuda(self) -> list[str]:
        return sorted(name for name in self.installed if name.startswith("nvidia-"))


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement(wheel: Path, extra: str = "") -> str:
    return f"tl-claims{f'[{extra}]' if extra else ''} @ {Path(wheel).resolve().as_uri()}"


def pure_python_wheels(wheel: Path, folder: Path, python: str = sys.executable) -> list[str]:
    """Build wheels for the dependencies (this machine's resolution, gpu extra included) that exist only as sdists."""
    report = folder / "host-report.json"
    subprocess.run(
        [
            python,
            "-m",
            "pip",
            "install",
            "--dry-run",
            "--ignore-installed",
            "--quiet",
            "--report",
            str(report),
            requirement(wheel, "gpu"),
        ],
        check=True,
        capture_output=True,
    )
    sdists = [
        f"{item['metadata']['name']}=={item['metadata']['version']}"
        for item in json.loads(report.read_text(encoding="utf-8"))["install"]
        if not item["download_info"]["url"].endswith(".whl")
    ]
    if sdists:
        subprocess.run(
            [python, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(folder), *sdists],
            check=True,
            capture_output=True,
        )
    return sdists


def resolve(
    wheel: Path, platform: Platform, extra: str = "", find_links: Path | None = None, python: str = sys.executable
) -> Resolution:
    """pip's resolution of `tl-claims[extra]` from `wheel` (dependencies from the index) for `platform`."""
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "report.json"
        tags = [argument for tag in platform.tags for argument in ("--platform", tag)]
        links = ["--find-links", str(find_links)] if find_links else []
        command = [
            python,
            "-c",
            RUN_PIP,
            json.dumps(platform.markers()),
            "install",
            "--dry-run",
            "--ignore-installed",
            *links,
            "--quiet",
            "--report",
            str(report),
            "--only-binary=:all:",
            "--python-version",
            PYTHON,
            "--implementation",
            "cp",
            "--abi",
            f"cp{PYTHON.replace('.', '')}",
            *tags,
            requirement(wheel, extra),
        ]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0 or not report.is_file():
            errors = [line for line in result.stderr.splitlines() if "is ignored" not in line]
            return Resolution(platform, extra, False, {}, "\n".join(errors[-25:]))
        items = json.loads(report.read_text(encoding="utf-8"))["install"]
    installed = {normalise(item["metadata"]["name"]): item["metadata"]["version"] for item in items}
    return Resolution(platform, extra, True, installed, "")


def table(resolutions: list[Resolution]) -> str:
    from tl_claims.core.install_check import TENSORFLOW_PLATFORMS, missing_tensorflow_message

    lines = [
        "| platform | extra | resolves | owners of tensorflow/ | keras | CUDA packages |",
        "|---|---|---|---|---|---|",
    ]
    for r in resolutions:
        lines.append(
            f"| {r.platform.name} | {r.extra or '-'} | {'yes' if r.ok else 'NO: ' + r.error[:80]} | "
            f"{', '.join(r.tensorflow) or 'none'} | {r.installed.get('keras', '-')} | {len(r.cuda)} |"
        )
    for platform in PLATFORMS:
        if (platform.system, platform.machine) not in TENSORFLOW_PLATFORMS:
            message = missing_tensorflow_message(platform.system, platform.machine)
            lines.append(f"\n{platform.name}, first use: error: {message}")
    return "\n".join(lines)


def resolve_all(wheel: Path, folder: Path) -> list[Resolution]:
    """Every platform, without and with the gpu extra (four pip processes at a time)."""
    from concurrent.futures import ThreadPoolExecutor

    pure_python_wheels(wheel, folder)
    jobs = [(platform, extra) for platform in PLATFORMS for extra in ("", "gpu")]
    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(lambda job: resolve(wheel, *job, find_links=folder), jobs))


def main(wheel: str) -> int:
    with tempfile.TemporaryDirectory() as folder:
        resolutions = resolve_all(Path(wheel), Path(folder))
    print(table(resolutions))
    return 0 if all(r.ok for r in resolutions) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
