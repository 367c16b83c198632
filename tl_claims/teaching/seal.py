"""Seal a student's child process off the grader's data (Linux Landlock): the folders the test split can be read or
rebuilt from cannot be opened, and no TCP connection can be made (no download of a data set).

Landlock is an allow-list that a process applies to itself and its descendants, for good. To hide a folder D, every
other entry of each folder above D is allowed (read beneath it), and D is not; the list is computed when the ruleset
is built, so an entry made later in one of those folders is not readable either. Looking a path up is never
restricted, only opening it; writing is not restricted (the grader trusts nothing a child writes).

`seal(hidden)` must run before any student code, in a process with one thread (Landlock binds the calling thread and
the threads it starts later): right after fork in a forked child, first thing in a spawned one. It returns "" when the
seal holds, else the reason it could not be applied (not Linux, a kernel without Landlock, Landlock disabled), and the
grader says so in the student's row.
"""

from __future__ import annotations

import ctypes
import os
import struct
import sys
from collections.abc import Iterable
from pathlib import Path

CREATE_RULESET, ADD_RULE, RESTRICT_SELF = 444, 445, 446  # the same numbers on x86_64 and aarch64
CREATE_RULESET_VERSION = 1
RULE_PATH_BENEATH = 1
PR_SET_NO_NEW_PRIVS = 38
READ_FILE, READ_DIR = 1 << 2, 1 << 3  # LANDLOCK_ACCESS_FS_*
NET_CONNECT_TCP = 1 << 1  # LANDLOCK_ACCESS_NET_CONNECT_TCP, from ABI 4
NET_ABI = 4


def landlock_abi() -> tuple[int, str]:
    """(Landlock's ABI version, "") where it can be used, else (0, why not)."""
    if not sys.platform.startswith("linux"):
        return 0, f"Landlock is a Linux feature (this system: {sys.platform})"
    libc = ctypes.CDLL(None, use_errno=True)
    version = libc.syscall(CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(CREATE_RULESET_VERSION))
    if version < 0:
        return 0, f"Landlock unavailable on this kernel ({os.strerror(ctypes.get_errno())})"
    return version, ""


def seal(hidden: Iterable[str | os.PathLike]) -> str:
    """Apply the ruleset to this process: `hidden` folders unreadable, TCP connections refused (ABI >= 4). "" when
    it holds, else the reason it could not be applied (nothing is restricted then)."""
    abi, reason = landlock_abi()
    if not abi:
        return reason
    libc = ctypes.CDLL(None, use_errno=True)
    handled_net = NET_CONNECT_TCP if abi >= NET_ABI else 0
    attributes = struct.pack("=QQ", READ_FILE | READ_DIR, handled_net)
    size = len(attributes) if abi >= NET_ABI else 8
    ruleset = libc.syscall(CREATE_RULESET, attributes, ctypes.c_size_t(size), ctypes.c_uint32(0))
    if ruleset < 0:
        return f"Landlock refused the ruleset ({os.strerror(ctypes.get_errno())})"
    try:
        for path in readable_entries([Path(os.path.realpath(folder)) for folder in hidden]):
            allow(libc, ruleset, path)
        if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 or libc.syscall(RESTRICT_SELF, ruleset, 0) != 0:
            return f"Landlock could not restrict this process ({os.strerror(ctypes.get_errno())})"
    finally:
        os.close(ruleset)
    return ""


def readable_entries(hidden: list[Path]) -> list[Path]:
    """What the seal allows: every entry of every folder above a hidden one, except the hidden folders and the
    folders above them (allowing one would allow what lies beneath it). Without hidden folders: the root."""
    hidden = [path for path in hidden if path.exists()]
    if not hidden:
        return [Path("/")]
    above = {ancestor for path in hidden for ancestor in path.parents}
    entries = []
    for folder in sorted(above):
        try:
            children = sorted(folder.iterdir())
        except OSError:
            continue
        entries.extend(child for child in children if not withheld(child, set(hidden), above))
    return entries


def withheld(entry: Path, hidden: set[Path], above: set[Path]) -> bool:
    """A hidden folder, a folder above one, or a link to either or into a hidden folder (or to nothing)."""
    target = Path(os.path.realpath(entry)) if entry.is_symlink() else entry
    if entry.is_symlink() and not target.exists():
        return True
    return target in hidden or target in above or any(parent in hidden for parent in target.parents)


def allow(libc: ctypes.CDLL, ruleset: int, path: Path) -> None:
    """Read beneath `path` (a file: read it). An entry that cannot be opened, or that Landlock does not take (a
    socket, a pipe), is left out: it stays unreadable."""
    try:
        descriptor = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return
    try:
        rights = READ_FILE | READ_DIR if path.is_dir() else READ_FILE
        rule = struct.pack("=Qi", rights, descriptor)
        libc.syscall(ADD_RULE, ruleset, ctypes.c_int(RULE_PATH_BENEATH), rule, ctypes.c_uint32(0))
    finally:
        os.close(descriptor)
