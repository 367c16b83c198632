"""The end of a claims run, apart from the per-test work because only the controller does it, once: at session finish
it folds every scale's rows of this run, those of all pytest-xdist workers merged, into the table files, and the
terminal summary prints each scale's table with where its files and figure are.
"""

import pytest

from harness.plugin.session import SESSION_KEY

# harness.results.assembly (pandas) is imported inside the functions that use it, so that importing the plugin stays
# cheap.


def assemble_tables(session: pytest.Session) -> None:
    """The controller (not xdist workers) folds every scale's rows into the table files."""
    config = session.config
    if hasattr(config, "workerinput") or SESSION_KEY not in config.stash:
        return
    claims_session = config.stash[SESSION_KEY]
    from harness.results.assembly import assemble

    claims_session.tables = {}
    for scale_dir in sorted(claims_session.results_dir.glob("*/runs")):
        scale = scale_dir.parent.name
        if (scale_dir / claims_session.run_id).is_dir():
            claims_session.tables[scale] = assemble(claims_session.results_dir, scale)


def write_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    """Each scale's table assembled at session finish, as markdown, and where its files are."""
    tables = getattr(config.stash.get(SESSION_KEY, None), "tables", None)
    if not tables:
        return
    from harness.results.tables import grouped_markdown

    for scale, table in tables.items():
        if table is None:
            continue
        terminalreporter.section(f"tl-claims results, {scale} scale")
        terminalreporter.write(grouped_markdown(table.to_dict("records"), table.attrs.get("skipped", [])))
        where = config.stash[SESSION_KEY].results_dir / scale
        terminalreporter.write_line(f"table: {where}/claims.csv | .md | .json; figure: {where}/figures/deltas.png")
