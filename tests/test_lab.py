"""make lab, run as the README gives it: JupyterLab starts with the project's kernel, and
a student runs a notebook in it, in a real browser."""

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

# Builds, browsers, TeX or trained networks: not in make check.
pytestmark = pytest.mark.full

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv"


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


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """One make lab for this module's tests; it must end when stopped."""
    lab = Lab(tmp_path_factory.mktemp("lab"))
    yield lab
    lab.stop()
    assert lab.process.returncode is not None


def test_make_lab_starts_jupyterlab_with_the_projects_kernel(lab):
    with urllib.request.urlopen(f"{lab.url}/api/kernelspecs?token={lab.token}") as r:
        specs = json.load(r)
    with urllib.request.urlopen(f"{lab.url}/api/contents?token={lab.token}") as r:
        listing = {item["name"] for item in json.load(r)["content"]}
    assert "python3" in specs["kernelspecs"]
    assert "q2_network.ipynb" in listing  # it opens at notebooks/


def test_a_student_runs_the_q2_notebook_in_jupyterlab(lab, browser, screenshots):
    """Open Q2 in JupyterLab in Chromium, run all its cells from the menu, and read the page.
    The screenshot is saved whatever happens, so that a failure can be seen."""
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
