"""The seal of a student's child (tl_claims/teaching/seal.py): hidden folders cannot be read nor listed, the rest can,
and no TCP connection can be made. Each probe runs in a child process (a seal is for good)."""

import json
import socket
import subprocess
import sys

import pytest

from tl_claims.core.paths import REPO_ROOT
from tl_claims.teaching import seal

ABI, UNSEALED = seal.landlock_abi()
needs_landlock = pytest.mark.skipif(not ABI, reason=f"test split not sealed: {UNSEALED}")

PROBE = """
import json, os, socket, sys
from tl_claims.teaching.seal import seal

hidden, readable, writable, port = json.loads(sys.argv[1])
seen = {"reason": seal([hidden])}

def attempt(name, action):
    try:
        action()
        seen[name] = "ok"
    except OSError as error:
        seen[name] = type(error).__name__

attempt("read_hidden", lambda: open(os.path.join(hidden, "secret.txt")).read())
attempt("list_hidden", lambda: os.listdir(hidden))
attempt("read_sibling", lambda: open(readable).read())
attempt("write_turn_folder", lambda: open(writable, "w").write("weights"))
attempt("read_turn_folder", lambda: open(writable).read())
attempt("connect", lambda: socket.create_connection(("127.0.0.1", port), timeout=5).close())
print(json.dumps(seen))
"""


def probe(hidden, readable, writable, port: int) -> dict:
    arguments = json.dumps([str(hidden), str(readable), str(writable), port])
    done = subprocess.run(
        [sys.executable, "-c", PROBE, arguments],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONPATH": str(REPO_ROOT), "PATH": ""},
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture
def listening():
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield server.getsockname()[1]


@needs_landlock
def test_a_sealed_child_cannot_read_a_hidden_folder_nor_connect_but_reads_the_rest(tmp_path, listening):
    hidden, turn = tmp_path / "data" / "photos", tmp_path / "turn"
    hidden.mkdir(parents=True)
    turn.mkdir()
    (hidden / "secret.txt").write_text("test labels", encoding="utf-8")
    sibling = tmp_path / "data" / "notes.txt"
    sibling.write_text("fine", encoding="utf-8")
    seen = probe(hidden, sibling, turn / "weights.txt", listening)
    assert seen["reason"] == ""
    assert seen["read_hidden"] == seen["list_hidden"] == "PermissionError"
    assert seen["read_sibling"] == seen["write_turn_folder"] == seen["read_turn_folder"] == "ok"
    if ABI >= seal.NET_ABI:
        assert seen["connect"] == "PermissionError"


def test_without_a_hidden_folder_everything_stays_readable(tmp_path):
    assert seal.readable_entries([tmp_path / "absent"]) == [seal.Path("/")]


def test_the_folders_above_a_hidden_one_and_links_into_it_are_withheld(tmp_path):
    hidden = tmp_path / "a" / "hidden"
    hidden.mkdir(parents=True)
    (tmp_path / "a" / "other").mkdir()
    (tmp_path / "a" / "link").symlink_to(hidden)
    (tmp_path / "a" / "up").symlink_to(tmp_path)
    entries = seal.readable_entries([hidden])
    assert tmp_path / "a" / "other" in entries
    assert not {hidden, tmp_path / "a", tmp_path, tmp_path / "a" / "link", tmp_path / "a" / "up"} & set(entries)
