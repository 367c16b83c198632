"""The claims plugin as pytest registers it (conftest.py's `pytest_plugins`, `-p tl_claims.plugin.hooks`, or the
student plugin when `--student` / `--homework` activate it): pytest looks its hooks and fixtures up by name in this
module, so they all live here, each a few lines that hand over to the module owning the work: options.py (the
command line and start-up checks), selection.py (markers, the default selection, claim order), session.py (the
per-process session, `verify_claim`'s work, worker pinning) and summary.py (the tables at session end).
"""

from collections.abc import Callable
from pathlib import Path

import pytest

from tl_claims.core.quiet import quiet_tensorflow
from tl_claims.plugin.options import add_options, check_data_source, check_outputs_writable, validated_overrides
from tl_claims.plugin.selection import (
    apply_default_selection,
    longest_claims_first,
    register_markers,
    relax_default_selection,
)
from tl_claims.plugin.session import SESSION_KEY, ClaimsSession, claim_verifier, share_cores_between_workers
from tl_claims.plugin.summary import assemble_tables, write_summary

# Every module above keeps TensorFlow, Keras, pandas, the claims and the engine imports inside its functions:
# importing the plugin loads none of them.


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    register_markers(config)
    overrides = validated_overrides(config)
    run_id = getattr(config, "workerinput", {}).get("tl_claims_run_id")
    session = ClaimsSession(config, overrides, run_id)
    if not hasattr(config, "workerinput"):  # the controller checks once, before any worker starts
        check_outputs_writable(session)
        check_data_source(overrides.get("dataset"), session.cache_dir)
    config.stash[SESSION_KEY] = session
    relax_default_selection(config)
    share_cores_between_workers(config)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:
    """xdist: every worker writes its rows under the controller's run id."""
    node.workerinput["tl_claims_run_id"] = node.config.stash[SESSION_KEY].run_id


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Claim tests longest first, then the default selection where pytest's -m does not apply it (selection.py)."""
    longest_claims_first(items, Path(config.getoption("--results-dir")))
    apply_default_selection(config, items)


@pytest.fixture
def verify_claim(request: pytest.FixtureRequest) -> Callable[..., object]:
    """Run a claim (an id or a `Claim`) variant at a scale, record its row and outcomes, and pass only when the
    measurement confirms the claim; a known finding (the variant's expected verdict) is a strict xfail, any other
    verdict fails.

    At smoke scale the row is recorded and checked for sanity; no verdict is asserted (one seed, tiny data).
    """
    return claim_verifier(request)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """The controller (not xdist workers) folds every scale's rows into the table files."""
    assemble_tables(session)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    write_summary(terminalreporter, config)


# Keep TensorFlow quiet in test processes too, from before any conftest.py or test module imports it
# (tl_claims/core/quiet.py).
quiet_tensorflow()
