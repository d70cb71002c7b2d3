"""Every README command that can run offline, run as the README gives it.

make book and make pdf run in test_book.py, make lab in test_lab.py, make test is this
run itself (and runs make train first), make lint runs before it in .ci/run, and
`python -m hwlib read` runs in test_cli.py. The rest run here.
"""

import os
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest

# Builds, browsers, TeX or trained networks: not in make check.
pytestmark = pytest.mark.full

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv"


def readme_commands():
    """The make targets that the README's code blocks name."""
    text = (ROOT / "README.md").read_text()
    return {line.split()[1] for line in text.splitlines() if line.startswith("make ")}


def test_the_readme_names_the_commands_tested_here():
    assert readme_commands() == {
        "book",
        "test",
        "lab",
        "pdf",
        "train",
        "check",
        "data",
        "notebooks",
        "bench",
        "lint",
        "lock",
    }
    assert (
        "`make repository URL=https://github.com/OWNER/NAME`"
        in (ROOT / "README.md").read_text()
    )


def project_copy(tmp_path):
    """The project's tracked files in a fresh folder, their times kept (so make sees .venv
    as up to date), with the project's .venv linked in."""
    files = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    copy = tmp_path / "project"
    for name in files:
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, copy / name)
    (copy / ".venv").symlink_to(VENV)
    return copy


def test_make_notebooks_re_executes_the_notebooks(tmp_path):
    """make notebooks on Q1's notebook with its outputs cleared (nbval re-executes all
    five and compares their outputs: this checks the command itself)."""
    copy = project_copy(tmp_path)
    names = ["q1_theory.ipynb"]
    for name in names:
        path = copy / "notebooks" / name
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        nbformat.write(nb, path)
    chosen = "NOTEBOOKS=" + " ".join(f"notebooks/{name}" for name in names)
    result = subprocess.run(
        ["make", "notebooks", chosen], cwd=copy, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    for name in names:
        nb = nbformat.read(copy / "notebooks" / name, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert all(c.execution_count for c in code), name
        assert not any(o.output_type == "error" for c in code for o in c.outputs), name
        assert any(o.output_type == "display_data" for c in code for o in c.outputs)


def test_make_check_runs_the_quick_tests():
    """make check, on one quick test (make test runs them all): the marker selection
    and the command work, and the test's output reports it passed."""
    chosen = "-k test_no_module_imports_one_that_imports_it_back"
    result = subprocess.run(
        ["make", "check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTEST_ADDOPTS=chosen),
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "1 passed" in result.stdout


def test_make_lock_pins_every_package_and_hwlib_from_this_folder(tmp_path):
    copy = project_copy(tmp_path)
    result = subprocess.run(["make", "lock"], cwd=copy, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    lock = (copy / "requirements.lock").read_text().splitlines()
    assert "-e ." in lock and not any("file://" in line for line in lock)
    pinned = {line.split("==")[0] for line in lock if "==" in line}
    assert {"numpy", "jupyter-book", "nbval", "threadpoolctl"} <= pinned


def test_make_repository_names_a_fork_for_the_buttons_and_colab(tmp_path):
    copy = project_copy(tmp_path)
    url = "https://github.com/someone/fork"
    subprocess.run(["make", "repository", f"URL={url}"], cwd=copy, check=True)
    assert f"url: {url}\n" in (copy / "_config.yml").read_text()
    for path in sorted((copy / "notebooks").glob("*.ipynb")):
        first = nbformat.read(path, as_version=4).cells[0].source
        assert f'"hwlib @ git+{url}"' in first, path.name


def test_make_data_offline_fails_cleanly():
    data_dir = ROOT / "data"
    before = sorted(data_dir.rglob("*")) if data_dir.exists() else None
    closed = (
        "http://127.0.0.1:9"  # a proxy that refuses every connection: offline, anywhere
    )
    offline = dict(
        os.environ,
        http_proxy=closed,
        https_proxy=closed,
        HTTP_PROXY=closed,
        HTTPS_PROXY=closed,
    )
    result = subprocess.run(
        ["make", "data"], cwd=ROOT, capture_output=True, text=True, env=offline
    )
    assert result.returncode != 0
    assert "error: could not download" in result.stderr and "make data" in result.stderr
    assert "Traceback" not in result.stderr
    assert (sorted(data_dir.rglob("*")) if data_dir.exists() else None) == before


def test_make_bench_runs():
    result = subprocess.run(
        ["make", "bench", "BENCH_ARGS=q3 --epochs 5"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "built-in real handwriting" in result.stdout
    assert (
        "Q3.1, 5 epochs" in result.stdout
        and "faster than the student's" in result.stdout
    )
