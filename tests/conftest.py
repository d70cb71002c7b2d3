"""Shared fixtures: the real data folder and headless Chromium (each skipped, with the reason,
when it is absent)."""

import os
import shutil
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def real_data():
    """The folder named by HW5_REAL_DATA, with emnist36/ and images/ in it."""
    folder = os.environ.get("HW5_REAL_DATA")
    if not folder:
        pytest.skip(
            "HW5_REAL_DATA is not set: no real handwriting or course photos to test on"
        )
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


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium, driven by Playwright, with no network traffic of its own: the
    system's chromium, or else the one that `playwright install chromium` fetched."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        executable = shutil.which("chromium")
        if executable is None and Path(p.chromium.executable_path).is_file():
            executable = p.chromium.executable_path
        if executable is None:
            pytest.skip("chromium is not installed (Debian: apt-get install chromium)")
        browser = p.chromium.launch(
            executable_path=executable,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()
