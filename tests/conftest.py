"""Shared fixtures: the real data folder (skipped, with the reason, when it is absent)."""
import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def real_data():
    """The folder named by HW5_REAL_DATA, with emnist36/ and images/ in it."""
    folder = os.environ.get("HW5_REAL_DATA")
    if not folder:
        pytest.skip("HW5_REAL_DATA is not set: no real handwriting or course photos to test on")
    folder = Path(folder)
    if not (folder / "emnist36").is_dir() or not (folder / "images").is_dir():
        pytest.fail(f"HW5_REAL_DATA={folder} has no emnist36/ and images/ folders")
    return folder


@pytest.fixture()
def isolated_cache(tmp_path, monkeypatch):
    """Point hwlib's caches at a temporary folder."""
    from hwlib import data
    monkeypatch.setattr(data, "CACHE_DIR", tmp_path / "cache")
    return tmp_path / "cache"
