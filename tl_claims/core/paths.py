"""Where tl-claims keeps what it builds once and reuses: converted weights, generated data, cached models."""

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]  # a checkout's root; package data lives in tl_claims/resources


def default_cache_dir() -> Path:
    """`$TL_CLAIMS_CACHE`, else `~/.cache/tl-claims`: shared by every run on this machine."""
    return Path(os.environ.get("TL_CLAIMS_CACHE", Path.home() / ".cache" / "tl-claims"))
