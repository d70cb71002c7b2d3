"""Shared fixtures: the real data folder and headless Chromium (each skipped, with the reason,
when it is absent). And a check that a test run leaves the user's _build/ and .cache/ as
they were: tests build and train in temporary folders."""

import os
import shutil
from pathlib import Path

import pytest

import hwlib  # before NumPy: the stored outputs' BLAS kernels (see hwlib)

# isort: split

ROOT = Path(__file__).resolve().parents[1]
USER_FOLDERS = [ROOT / "_build", ROOT / ".cache"]


def snapshot(folder):
    """Every file below folder with its size and modification time."""
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def pytest_report_header(config):
    """Say so when this machine trains with other BLAS kernels than the stored outputs
    were trained with: their numbers may then differ (see the README)."""
    from hwlib import models

    kernels = models.blas_kernels()
    if kernels.lower() != hwlib.STORED_KERNELS.lower():
        return (
            f"BLAS kernels: {kernels or 'unknown'}, not the stored outputs' "
            f"{hwlib.STORED_KERNELS}: the notebooks' numbers from trained networks may "
            "differ from the stored ones (see the README)"
        )
    return None


def pytest_sessionstart(session):
    session.config.user_folders = {f: snapshot(f) for f in USER_FOLDERS}


def pytest_sessionfinish(session, exitstatus):
    """Fail the run if any test changed the user's build or network cache."""
    for folder, before in session.config.user_folders.items():
        after = snapshot(folder)
        changed = sorted(set(before.items()) ^ set(after.items()))
        if changed:
            print(f"\nFAILED: the tests changed {folder}: {changed[:5]}")
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
def builtin():
    """The built-in data source, whatever HW5_DATA says."""
    from hwlib import data

    return data.Source(data.BUILTIN)


@pytest.fixture(scope="session")
def real_data():
    """The folder named by HW5_REAL_DATA, with emnist36/ and images/ in it, as an
    absolute path: the notebooks' kernels run in notebooks/, so a path relative to the
    project (../shared/hw5) would name another folder there."""
    folder = os.environ.get("HW5_REAL_DATA")
    if not folder:
        pytest.skip(
            "HW5_REAL_DATA is not set: no real handwriting or course photos to test on"
        )
    folder = Path(folder).resolve()
    if not (folder / "emnist36").is_dir() or not (folder / "images").is_dir():
        pytest.fail(f"HW5_REAL_DATA={folder} has no emnist36/ and images/ folders")
    return folder


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory):
    """Where browser tests save what they saw (kept with pytest's last temporary
    folders; the path is printed at the end of the run)."""
    folder = tmp_path_factory.mktemp("screenshots", numbered=False)
    print(f"\nscreenshots: {folder}")
    return folder


@pytest.fixture()
def isolated_cache(tmp_path, monkeypatch):
    """Point hwlib's network cache at an empty temporary folder."""
    monkeypatch.setenv("HW5_CACHE", str(tmp_path / "cache"))
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
