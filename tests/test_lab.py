"""make lab, run as the README gives it: JupyterLab starts with the project's kernel, and
a student runs a notebook in it, in a real browser."""

import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect

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
            f"--IdentityProvider.token={self.token} --LabApp.expose_app_in_browser=True"
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


@pytest.fixture(scope="module")
def lab_page(lab, browser):
    """One browser page for this module's notebooks: JupyterLab loads once, and each
    notebook opens in a tab of its own (open_notebook)."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    # ?reset: a workspace without the tabs that an earlier JupyterLab page left open
    page.goto(f"{lab.url}/lab?reset&token={lab.token}")
    page.wait_for_function("() => window.jupyterapp", timeout=60000)
    page.evaluate("async () => { await window.jupyterapp.restored; }")
    yield page
    page.close()


def test_make_lab_starts_jupyterlab_with_the_projects_kernel(lab):
    with urllib.request.urlopen(f"{lab.url}/api/kernelspecs?token={lab.token}") as r:
        specs = json.load(r)
    with urllib.request.urlopen(f"{lab.url}/api/contents?token={lab.token}") as r:
        listing = {item["name"] for item in json.load(r)["content"]}
    assert "python3" in specs["kernelspecs"]
    assert "q2_network.ipynb" in listing  # it opens at notebooks/


# The notebook on show: other notebooks' panels stay in the page, hidden.
NOTEBOOK = "#jp-main-dock-panel .jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook"
PROMPTS = f"{NOTEBOOK} .jp-CodeCell .jp-InputArea-prompt"
ERROR = ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
MARKDOWN = f"{NOTEBOOK} .jp-MarkdownCell .lm-Widget.myst"  # rendered by jupyterlab-myst


def open_notebook(page, name, wait_for_kernel=True):
    """Open the notebook in a new tab of the JupyterLab on page, and wait until each of
    its cells is on the page and its Markdown rendered, and, if asked, until its kernel
    is idle."""
    import nbformat

    cells = nbformat.read(ROOT / "notebooks" / name, as_version=4).cells
    code = sum(c.cell_type == "code" for c in cells)
    page.evaluate(
        "async path => {"
        "  await window.jupyterapp.commands.execute('docmanager:open', {path});"
        "}",
        name,
    )
    if wait_for_kernel:
        page.get_by_text("Python 3 (ipykernel) | Idle").wait_for(timeout=60000)
    # JupyterLab adds the cells, and jupyterlab-myst renders the Markdown, one by one.
    page.wait_for_function(
        f"""() => {{
            const code = document.querySelectorAll("{NOTEBOOK} .jp-CodeCell");
            const shown = Array.from(document.querySelectorAll("{MARKDOWN}"));
            return code.length === {code} && shown.length === {len(cells) - code}
                && shown.every(e => e.innerText.trim());
        }}""",
        timeout=60000,
    )


def run_all(page, timeout_s):
    """Run every cell from the Run menu; wait until each code cell has its execution
    count, or a cell shows an error, which fails the test."""
    count = page.locator(f"{NOTEBOOK} .jp-CodeCell").count()
    assert count >= 10
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.click("li[data-command='runmenu:run-all']")
    page.wait_for_function(
        f"""() => {{
            if (document.querySelector("{ERROR}")) return true;
            const p = Array.from(document.querySelectorAll("{PROMPTS}"))
                .map(e => e.textContent.trim());
            return p.length === {count} && p.every(t => /^\\[\\d+\\]:$/.test(t));
        }}""",
        timeout=timeout_s * 1000,
    )
    errors = page.locator(ERROR)
    assert errors.count() == 0, errors.all_inner_texts()


def unrendered_markup(page):
    """Raw MyST left in the page's rendered Markdown cells, every one rendered by
    jupyterlab-myst."""
    texts = page.locator(MARKDOWN).all_inner_texts()
    assert len(texts) == page.locator(f"{NOTEBOOK} .jp-MarkdownCell").count() > 0
    return [
        t for t in texts if re.search(r"\{(?:eval|glue|numref|eq|cite|ref|doc)[:}]", t)
    ]


def check_stored_values_and_markup(page, name):
    """Each Markdown cell shows the values that the notebook stores for its prose
    (book/store_prose_values.py), and no cell shows raw MyST."""
    import nbformat

    nb = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    cells = [c for c in nb.cells if c.cell_type == "markdown"]
    shown = page.locator(MARKDOWN).all_inner_texts()
    assert len(shown) == len(cells)
    for cell, text in zip(cells, shown):
        for expression in cell.metadata.get("user_expressions", []):
            value = expression["result"]["data"]["text/plain"]
            assert value in text, (name, expression["expression"])
    assert unrendered_markup(page) == []


def mark_stored_values(page, mark):
    """Replace the stored values of every Markdown cell of the open notebook by mark,
    and render the cells again: what their prose shows next can only come from mark, or
    from the kernel."""
    page.evaluate(
        """mark => {
            for (const cell of window.jupyterapp.shell.currentWidget.content.widgets) {
                const stored = cell.model.getMetadata("user_expressions");
                if (cell.model.type !== "markdown" || !stored) continue;
                cell.model.setMetadata("user_expressions", stored.map(e => (
                    {...e, result: {...e.result, data: {"text/plain": mark}}})));
                cell.rendered = false;
                cell.rendered = true;
            }
        }""",
        mark,
    )


def test_q1_q2_q4_and_q5_open_with_their_stored_values_and_no_raw_markup(lab_page):
    """As the next test checks for Q3 before it runs it; their kernels need not start."""
    for name in [
        "q1_theory.ipynb",
        "q2_network.ipynb",
        "q4_autoencoder.ipynb",
        "q5_text_extraction.ipynb",
    ]:
        open_notebook(lab_page, name, wait_for_kernel=False)
        check_stored_values_and_markup(lab_page, name)
        if name == "q1_theory.ipynb":  # equations numbered, as in the book
            assert lab_page.locator(MARKDOWN, has_text="(3)").count() >= 1


def test_after_run_all_the_q3_1_answer_shows_the_accuracy_printed_above_it(
    lab_page, screenshots
):
    """A student runs Q3 in JupyterLab. The answer's {eval} values come from this
    run's kernel: with the stored values replaced by a mark, the validation accuracy
    in the prose is the one printed above it after the run. The screenshot, saved
    whatever happens, shows the printed line and the answer."""
    page = lab_page
    open_notebook(page, "q3_training.ipynb")
    answer = page.locator(".jp-MarkdownCell", has_text="The network reaches").first
    printed = page.get_by_text(re.compile(r"^validation accuracy \d\.\d{3}, test"))
    try:
        check_stored_values_and_markup(page, "q3_training.ipynb")
        mark_stored_values(page, "STALE")
        expect(answer).to_contain_text("The network reaches STALE %")
        run_all(page, timeout_s=300)
        valid = float(re.search(r"\d\.\d{3}", printed.first.inner_text()).group())
        answer.scroll_into_view_if_needed()
        expect(answer).to_contain_text(
            f"The network reaches {100 * valid:.1f} % on the validation set"
        )
        assert not [t for t in page.locator(MARKDOWN).all_inner_texts() if "STALE" in t]
        assert unrendered_markup(page) == []
    finally:
        printed.first.evaluate("e => e.scrollIntoView({block: 'start'})")
        top, bottom = printed.first.bounding_box(), answer.bounding_box()
        if top and bottom:
            page.screenshot(
                path=str(screenshots / "jupyterlab_q3_1_answer.png"),
                clip={
                    "x": bottom["x"],
                    "y": top["y"] - 8,
                    "width": bottom["width"],
                    "height": bottom["y"] + bottom["height"] - top["y"] + 16,
                },
            )
