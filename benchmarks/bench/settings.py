"""The settings block that opens every results/bench/*.md: when, on what and with which libraries it was measured.

Plain values are one `- name: value` line each; a mapping (the library versions, the thread settings) is a small
table of its own, which reads better than a Python dict on one line and diffs one library per line.
"""

import os
from collections.abc import Mapping

from tl_claims.core.markdown import markdown_table

COLUMNS = {"versions": ("library", "version")}  # a mapping's table header; any other: setting | value


def machine() -> dict[str, object]:
    """The measuring environment every bench writes: date, machine (CPU model, architecture, cores, system), load,
    library versions, commit."""
    from tl_claims.results.assembly import environment

    env = environment()
    return {
        "date": env["date"],
        "machine": env["machine"],
        "load average at start": " ".join(f"{load:.2f}" for load in os.getloadavg()),
        "versions": env["versions"],
        "git commit": env["git_commit"],
    }


def settings_markdown(settings: Mapping[str, object]) -> list[str]:
    """The Markdown lines of `settings`: the plain values as a list, then each mapping as a table under its name."""
    lines = [f"- {key}: {value}" for key, value in settings.items() if not isinstance(value, Mapping)]
    for key, value in settings.items():
        if isinstance(value, Mapping):
            lines += ["", f"{key}:", "", _table(key, value)]
    return lines


def _table(key: str, values: Mapping) -> str:
    if not values:
        return "(none recorded)"
    name, column = COLUMNS.get(key, ("setting", "value"))
    return markdown_table([{name: item, column: value} for item, value in values.items()])


def start_to_end(start: Mapping, end: Mapping) -> dict:
    """One table for settings read before and after a run: a value that changed (the load) as `start → end`."""
    return {key: value if end.get(key) == value else f"{value} → {end.get(key)}" for key, value in start.items()}
