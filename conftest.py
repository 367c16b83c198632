"""Loads the tl-claims pytest plugin (tl_claims/plugin/hooks.py) and pytester for the plugin's own tests, and skips
the tests marked `tensorflow_only` under another Keras backend, each with the one-line reason."""

import pytest

pytest_plugins = ["tl_claims.plugin.hooks", "tl_claims.teaching.plugin", "pytester"]


def pytest_runtest_setup(item: pytest.Item) -> None:
    """A `tensorflow_only` test checks what is TensorFlow by nature (tf.data, tf.function tracing, tf.image): under
    KERAS_BACKEND=jax or torch it skips instead of failing on a module that backend never uses."""
    marker = item.get_closest_marker("tensorflow_only")
    if marker is None:
        return
    from tl_claims.core.backend import TENSORFLOW_ONLY, keras_backend

    if keras_backend() != "tensorflow":
        why = f" ({marker.args[0]})" if marker.args else ""
        pytest.skip(f"{TENSORFLOW_ONLY}{why}; Keras runs on {keras_backend()} here")
