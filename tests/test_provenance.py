"""Per-row provenance: separate fields, times in ISO 8601 with a time zone, the commit and its dirty flag."""

import subprocess
from datetime import datetime

from test_row import make_row

from tl_claims import __version__
from tl_claims.core import provenance
from tl_claims.results.row import stamp


def test_times_are_iso_8601_with_a_time_zone():
    assert datetime.fromisoformat(provenance.now()).utcoffset() is not None


def test_commit_info_reports_the_dirty_flag(tmp_path):
    assert provenance.commit_info(tmp_path) == {"id": "unknown", "dirty": None}  # not a checkout
    git = ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    (tmp_path / "f").write_text("one")
    subprocess.run([*git, "add", "f"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "one"], check=True)
    clean = provenance.commit_info(tmp_path)
    assert clean["dirty"] is False and len(clean["id"]) >= 7
    (tmp_path / "f").write_text("two")
    assert provenance.commit_info(tmp_path) == {"id": clean["id"], "dirty": True}


def test_stamp_fills_every_provenance_field(tmp_path):
    row = stamp(make_row(), node_id="tests/x.py::t[a]", started_at="2026-01-01T00:00:00+00:00",
                           checkout=tmp_path, gpus=["/physical_device:GPU:0"])  # fmt: skip
    assert row.node_id == "tests/x.py::t[a]" and row.tool_version == __version__
    assert datetime.fromisoformat(row.finished_at).utcoffset() is not None
    assert {"keras", "numpy"} <= set(row.versions) and row.machine["gpus"] == ["/physical_device:GPU:0"]
    assert {"node", "machine", "cpus", "system", "python"} <= set(row.machine)


def test_the_cpu_model_comes_from_cpuinfo_else_the_platform(tmp_path, monkeypatch):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13 64-Core Processor\n")
    assert provenance.cpu_model(cpuinfo) == "AMD EPYC 7B13 64-Core Processor"
    monkeypatch.setattr(provenance.platform, "processor", lambda: "arm")
    assert provenance.cpu_model(tmp_path / "absent") == "arm"  # macOS, Windows: no /proc
    monkeypatch.setattr(provenance.platform, "processor", lambda: "")
    assert provenance.cpu_model(tmp_path / "absent") == "unknown CPU"


def test_the_machine_line_names_the_cpu_model_first(monkeypatch):
    monkeypatch.setattr(provenance, "cpu_model", lambda: "Test CPU 9000")
    assert provenance.machine_line().startswith(f"Test CPU 9000 ({provenance.platform.machine()}), ")
    assert " CPU(s), " in provenance.machine_line()
