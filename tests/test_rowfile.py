"""Rows files: a line per finished test, flushed at once; torn or malformed lines skipped with a warning naming
file and line; skips listed until measured; files written whole; claims.json read when the runs are gone."""

import json
import shutil
from dataclasses import asdict
from pathlib import Path

import pytest
from test_row import make_row

from tl_claims.results import assembly, rowfile, tables


def test_a_torn_last_line_from_a_killed_run_is_skipped(tmp_path):
    path = rowfile.append_row(tmp_path, make_row(claim="a"))
    with open(path, "a") as handle:
        handle.write('{"claim": "half a ro')
    with pytest.warns(rowfile.MalformedRowWarning, match="torn line"):
        assert list(assembly.assemble(tmp_path, "smoke")["claim"]) == ["a"]


def test_unbounded_intervals_are_written_as_null(tmp_path):
    row = make_row()
    row.ci_low, row.ci_high = float("-inf"), float("inf")
    path = rowfile.append_row(tmp_path, row)
    stored = json.loads(path.read_text())
    assert stored["ci_low"] is None and stored["ci_high"] is None
    assert "n/a (1 seed)" in tables.grouped_markdown(assembly.assemble(tmp_path, "smoke").to_dict("records"), [])


def test_a_row_from_before_the_backend_field_reads_as_tensorflow_and_a_jax_row_keeps_its_backend(tmp_path):
    older = {key: value for key, value in asdict(make_row(claim="old")).items() if key != "backend"}
    path = rowfile.append_row(tmp_path, make_row(claim="new", backend="jax"))
    with open(path, "a") as handle:
        handle.write(json.dumps(older) + "\n")
    backends = {row["claim"]: row["backend"] for row in rowfile.read_rows(tmp_path / "smoke")}
    assert backends == {"new": "jax", "old": "tensorflow"}


MALFORMED = {
    "a number": b"42\n",
    "an empty object": b"{}\n",
    "a row without claim": json.dumps({"variant": "v"}).encode() + b"\n",
    "bytes that are not UTF-8": b'{"claim": "\xff\xfe"}\n',
    "a torn line": b'{"claim": "half a ro',
    "a delta that is text": json.dumps({**asdict(make_row()), "delta": "big"}).encode() + b"\n",
}


@pytest.mark.parametrize("line", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_line_is_skipped_with_a_warning_naming_file_and_line(tmp_path, line):
    path = rowfile.append_row(tmp_path, make_row(claim="a"))
    with open(path, "ab") as handle:
        handle.write(line)
    rowfile.append_row(tmp_path, make_row(claim="b"))
    with pytest.warns(rowfile.MalformedRowWarning, match=rf"{path.name}:2: skipped"):
        table = assembly.assemble(tmp_path, "smoke")
    assert list(table["claim"]) == ["a", "b"]


def test_skipped_tests_are_listed_until_a_later_run_measures_them(tmp_path):
    skip = {"claim": "a", "variant": "v", "scale": "smoke", "run_id": "20260102T000000-1", "reason": "no weights"}
    rowfile.append_skip(tmp_path, skip)
    rowfile.append_row(tmp_path, make_row(claim="b", run_id="20260102T000000-1"))
    table = assembly.assemble(tmp_path, "smoke")
    assert table.attrs["skipped"] == [skip]
    assert "- `a` [v]: no weights" in (tmp_path / "smoke" / "claims.md").read_text()
    rowfile.append_row(tmp_path, make_row(claim="a", run_id="20260103T000000-1"))
    assert assembly.assemble(tmp_path, "smoke").attrs["skipped"] == []


def test_a_failed_write_leaves_the_previous_file_whole(tmp_path, monkeypatch):
    target = tmp_path / "claims.csv"
    rowfile.write_atomic(target, "old, complete\n")

    def fail_midway(self, text, encoding=None):
        Path.write_bytes(self, text[:3].encode())
        raise OSError("disk full")

    monkeypatch.setattr(Path, "write_text", fail_midway)
    with pytest.raises(OSError, match="disk full"):
        rowfile.write_atomic(target, "new and longer\n")
    monkeypatch.undo()
    assert target.read_text() == "old, complete\n"
    assert [path.name for path in tmp_path.iterdir()] == ["claims.csv"]


def test_without_runs_the_rows_of_claims_json_are_assembled_again(tmp_path):
    rowfile.append_row(tmp_path, make_row(claim="a"))
    assembly.assemble(tmp_path, "smoke")
    environment = json.loads((tmp_path / "smoke" / "claims.json").read_text())["environment"]
    shutil.rmtree(tmp_path / "smoke" / "runs")
    table = assembly.assemble(tmp_path, "smoke")
    assert list(table["claim"]) == ["a"] and table.attrs["environment"] == environment
