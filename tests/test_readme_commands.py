"""Every README command that can run offline, run as the README gives it.

make book and make pdf run in test_book.py, make test is this run itself (and runs make
train first), make lint runs before it in .ci/run, and `python -m hwlib read` runs in
test_text.py. The rest run here.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
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
        ["make", "bench", "BENCH_ARGS=q3"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "built-in real handwriting" in result.stdout and "Q3" in result.stdout


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


LAB_SETTINGS = {
    # Render every cell (no windowing), so that the page holds the whole notebook.
    "notebook-extension/tracker": {"windowingMode": "none"},
    # No autosave: running a notebook in a test must not rewrite its stored outputs.
    "docmanager-extension/plugin": {"autosave": False},
    "apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
}


class Lab:
    """make lab, started on 127.0.0.1 with a token and a free port; stop() ends it."""

    def __init__(self, tmp_path):
        self.port, self.token = free_port(), "hw5-test-token"
        self.url = f"http://127.0.0.1:{self.port}"
        settings = tmp_path / "lab-settings"
        for plugin, values in LAB_SETTINGS.items():
            path = settings / "@jupyterlab" / f"{plugin}.jupyterlab-settings"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values))
        env = dict(
            os.environ,
            JUPYTERLAB_SETTINGS_DIR=str(settings),
            JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
        )
        args = (
            f"--no-browser --ip=127.0.0.1 --port={self.port} --ServerApp.port_retries=0 "
            f"--IdentityProvider.token={self.token}"
        )
        self.log = tmp_path / "lab.log"
        self.process = subprocess.Popen(
            ["make", "lab", f"LAB_ARGS={args}"],
            cwd=ROOT,
            env=env,
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(
                    f"make lab exited with {self.process.returncode}:\n"
                    + self.log.read_text()[-3000:]
                )
            try:
                with urllib.request.urlopen(
                    f"{self.url}/api/status?token={self.token}", timeout=2
                ):
                    return
            except OSError:
                time.sleep(0.5)
        self.stop()
        pytest.fail(
            "JupyterLab did not answer within 90 s:\n" + self.log.read_text()[-3000:]
        )

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def test_make_lab_starts_jupyterlab_with_the_projects_kernel(tmp_path):
    lab = Lab(tmp_path)
    try:
        with urllib.request.urlopen(
            f"{lab.url}/api/kernelspecs?token={lab.token}"
        ) as r:
            specs = json.load(r)
        with urllib.request.urlopen(f"{lab.url}/api/contents?token={lab.token}") as r:
            listing = {item["name"] for item in json.load(r)["content"]}
    finally:
        lab.stop()
    assert "python3" in specs["kernelspecs"]
    assert "q2_network.ipynb" in listing  # it opens at notebooks/
    assert lab.process.returncode is not None


def test_a_student_runs_the_q2_notebook_in_jupyterlab(tmp_path, browser, screenshots):
    """Open Q2 in JupyterLab in Chromium, run all its cells from the menu, and read the page.
    The screenshot is saved whatever happens, so that a failure can be seen."""
    lab = Lab(tmp_path)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    screenshot = screenshots / "jupyterlab_q2.png"
    try:
        page.goto(f"{lab.url}/lab/tree/q2_network.ipynb?token={lab.token}")
        page.wait_for_selector(".jp-Notebook .jp-CodeCell", timeout=60000)
        page.get_by_text("Python 3 (ipykernel) | Idle").wait_for(timeout=60000)
        count = page.locator(".jp-Notebook .jp-CodeCell").count()
        assert count >= 10
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.click("li[data-command='runmenu:run-all']")
        # Wait until every code cell has its execution count, or a cell shows an error.
        prompts = ".jp-Notebook .jp-CodeCell .jp-InputArea-prompt"
        error = ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
        page.wait_for_function(
            f"""() => {{
                if (document.querySelector("{error}")) return true;
                const p = Array.from(document.querySelectorAll("{prompts}"))
                    .map(e => e.textContent.trim());
                return p.length === {count} && p.every(t => /^\\[\\d+\\]:$/.test(t));
            }}""",
            timeout=180000,
        )
        errors = page.locator(error)
        assert errors.count() == 0, errors.all_inner_texts()
        result = page.get_by_text("Wlayer1: relative error").first
        result.scroll_into_view_if_needed()
        assert result.is_visible()
    finally:
        page.screenshot(path=str(screenshot))
        page.close()
        lab.stop()
