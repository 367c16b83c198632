"""The settings block of every results/bench/*.md: plain values as a list, library versions and other mappings as
small tables, and a machine line that names the CPU model (benchmarks/bench/settings.py)."""

from benchmarks.bench import settings
from tl_claims.core import provenance


def test_plain_values_are_a_list_and_each_mapping_a_table_under_its_name():
    lines = settings.settings_markdown(
        {"date": "2026-12-07", "versions": {"tensorflow": "2.21.0", "keras": "3.15.1"}, "threads": {"OMP": "unset"}}
    )
    text = "\n".join(lines)
    assert lines[0] == "- date: 2026-12-07"
    assert "versions:\n\n| library | version |\n|---|---|\n| tensorflow | 2.21.0 |\n| keras | 3.15.1 |" in text
    assert "threads:\n\n| setting | value |\n|---|---|\n| OMP | unset |" in text
    assert "{" not in text  # no Python dict printed on one line


def test_an_empty_mapping_says_so():
    assert settings.settings_markdown({"versions": {}})[-1] == "(none recorded)"


def test_the_machine_line_names_the_cpu_model(monkeypatch):
    monkeypatch.setattr(provenance, "cpu_model", lambda: "Test CPU 9000")
    machine = settings.machine()
    assert machine["machine"].startswith("Test CPU 9000 (")
    assert isinstance(machine["versions"], dict) and "numpy" in machine["versions"]
    assert list(machine) == ["date", "machine", "load average at start", "versions", "git commit"]


def test_settings_read_before_and_after_a_run_are_one_table_with_what_changed():
    merged = settings.start_to_end({"cpu_count": 2, "load": 1.5}, {"cpu_count": 2, "load": 2.25})
    assert merged == {"cpu_count": 2, "load": "1.5 → 2.25"}
