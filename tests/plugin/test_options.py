"""Option checks (tl_claims/plugin/options.py): a bad option stops the session at start, in one sentence."""

import importlib

import pytest


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--seeds", "0"], "*--seeds must be at least 1*"),
        (["--backbone", "resnet9000"], "*--backbone*resnet9000*efficientnet_lite0*"),
        (["--dataset", "folder:/no/such/folder"], "*no folder at*"),
        (["--dataset", "imagenet"], "*use tf_flowers*tfds:NAME*"),
        (["--image-size", "16"], "*at least 32 pixels*"),
        (["--results-dir", "a_file/results"], "*--results-dir a_file/results: *a_file is a file, not a folder*"),
        (["--cache-dir", "a_file"], "*--cache-dir a_file: *a_file is a file, not a folder; give a folder*"),
        (["--dataset", "folder:empty"], "*--dataset folder:empty: 1 problem(s) in *empty*has no class sub-folders*"),
        (["--dataset", "tfds:no_such_data_set_here"], "*TensorFlow Datasets has no data set 'no_such_data_set_here'*"),
    ],
)
def test_bad_options_stop_the_session_at_start(plugin_pytester, option, message):
    plugin_pytester.makepyfile("def test_never_runs(): raise AssertionError('should not run')")
    (plugin_pytester.path / "a_file").write_text("not a folder")
    (plugin_pytester.path / "empty").mkdir()
    result = plugin_pytester.runpytest(*option)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


@pytest.mark.parametrize("where", ["smoke", "smoke/runs", "cpu/homework", "results itself"])
def test_an_unwritable_results_or_scale_folder_stops_the_session_at_start(plugin_pytester, chmod, where):
    """An existing `results/<scale>/` left read-only once passed the check, and then every test failed."""
    results = plugin_pytester.path / "results"
    folder = results if where == "results itself" else results / where
    folder.mkdir(parents=True)
    chmod(folder, 0o555)
    plugin_pytester.makepyfile("def test_never_runs(): raise AssertionError('should not run')")
    result = plugin_pytester.runpytest("--results-dir", "results")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*--results-dir results: cannot write in {folder} (*); give a folder*"])


def test_a_read_only_progress_log_stops_the_session_at_start(plugin_pytester, chmod):
    log = plugin_pytester.path / "results" / "smoke" / "progress.log"
    log.parent.mkdir(parents=True)
    log.write_text("an earlier run\n")
    chmod(log, 0o444)
    plugin_pytester.makepyfile("def test_never_runs(): raise AssertionError('should not run')")
    result = plugin_pytester.runpytest("--results-dir", "results")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--results-dir results: cannot append to results/smoke/progress.log (permission*"])


def test_a_tfds_data_set_without_tensorflow_names_the_way_out(monkeypatch):
    from tl_claims.plugin import options

    # The module the check imports at call time is sys.modules' entry; the in-process pytester runs of this file can
    # leave the package's attribute pointing at an earlier copy, so patch the entry itself.
    install_check = importlib.import_module("tl_claims.core.install_check")
    monkeypatch.setattr(install_check, "has_tensorflow", lambda: False)
    with pytest.raises(pytest.UsageError, match=r"tfds:tf_flowers: tfds:tf_flowers needs TensorFlow.*folder:PATH"):
        options.check_data_source("tfds:tf_flowers", cache_dir=None)
