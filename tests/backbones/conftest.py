"""Fixtures shared by the backbone tests."""

import pytest

from tl_claims.backbones import weights_cache


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    """A private, empty weights cache (default_cache_dir() follows $TL_CLAIMS_CACHE) and no in-memory copies."""
    monkeypatch.setenv("TL_CLAIMS_CACHE", str(tmp_path / "cache"))
    weights_cache.forget_in_memory_weights()
    yield tmp_path / "cache"
    weights_cache.forget_in_memory_weights()
