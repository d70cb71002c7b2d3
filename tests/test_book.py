"""The products a person gets: the HTML book in a real browser, and the PDF for grading.

Both build the book with the README's commands (make book, make pdf), on the data that
make test sets (the built-in default). They skip, saying why, only where the machine
lacks Chromium or XeLaTeX; CI installs both.
"""

import functools
import http.server
import os
import re
import shutil
import subprocess
import threading
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = [
    "Q1 Theory",
    "Q2 A fully connected network",
    "Q3 Training models on NIST36",
    "Q4 An autoencoder for image compression",
    "Q5 Extracting text from images",
]


# The book's HTML is built as the publishing workflow builds it, for this repository.
SAMPLE_REPOSITORY = "https://github.com/sample-owner/sample-hw5-book"


def make(target, **env):
    result = subprocess.run(
        ["make", target],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, **env},
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def toc_pages():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return [toc["root"]] + [
        c["file"] for part in toc["parts"] for c in part["chapters"]
    ]


def glued(notebook, key):
    """The text a notebook glued under key, read from its stored outputs."""
    import nbformat

    nb = nbformat.read(ROOT / "notebooks" / f"{notebook}.ipynb", as_version=4)
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("metadata", {}).get("scrapbook", {}).get("name") == key:
                return out["data"]["application/papermill.record/text/plain"]
    raise KeyError(key)


@pytest.fixture(scope="module")
def pdf_text():
    if shutil.which("xelatex") is None:
        pytest.skip(
            "xelatex is not installed: see the README for the TeX packages that make pdf needs"
        )
    make("pdf")
    from pypdf import PdfReader

    pages = [
        page.extract_text() or ""
        for page in PdfReader(ROOT / "_build" / "pdf" / "book.pdf").pages
    ]
    return [
        re.sub(r"\s+", "", p) for p in pages
    ]  # the extractor drops some spaces in headings


def test_pdf_starts_each_question_on_its_own_page(pdf_text):
    starts = []
    for title in QUESTIONS:
        heading = re.sub(r"\s+", "", title).upper()
        found = [
            i
            for i, page in enumerate(pdf_text)
            if page.upper().startswith("CHAPTER") and heading in page.upper()
        ]
        assert len(found) == 1, title
        starts.append(found[0])
    assert starts == sorted(starts) and len(set(starts)) == len(starts)


def test_pdf_shows_the_notebooks_key_numbers(pdf_text):
    text = "".join(pdf_text)
    for notebook, key in [
        ("q2_network", "q2_total_loss"),
        ("q3_training", "q3_test_acc"),
        ("q3_training", "q3_valid_acc"),
        ("q4_autoencoder", "q4_psnr"),
    ]:
        assert glued(notebook, key) in text, key
    for value in glued("q5_text_extraction", "q5_char_acc").split(" / "):
        assert value in text
    assert "defbackwards(delta,params" in text  # the graded source is in the PDF
    assert "DownloadthewholebookasonePDF" not in text  # that link is for the HTML only


def test_launch_buttons_open_the_repository_the_book_is_built_from(site, browser):
    page = browser.new_page()
    page.goto(f"{site}/notebooks/q2_network.html")
    links = page.eval_on_selector_all("a[href]", "as => as.map(a => a.href)")
    page.close()
    sample = SAMPLE_REPOSITORY.removeprefix("https://github.com/")
    colab = [u for u in links if u.startswith("https://colab.research.google.com/")]
    binder = [u for u in links if u.startswith("https://mybinder.org/")]
    assert colab and all(
        f"/github/{sample}/blob/main/notebooks/q2_network.ipynb" in u for u in colab
    )
    assert binder and all(f"/gh/{sample}/main" in u for u in binder)
    assert SAMPLE_REPOSITORY in links
    assert not any("hw5-book/hw5-book" in u for u in links)  # the local default is gone


def test_the_landing_page_links_the_pdf_and_shows_the_results_as_text(site, browser):
    page = browser.new_page()
    page.goto(f"{site}/book/intro.html")
    link = page.get_by_role("link", name="Download the whole book as one PDF")
    assert link.get_attribute("href") == "../book.pdf"
    results = page.inner_text("main table")
    for notebook, key in [
        ("q3_training", "q3_test_acc"),
        ("q5_text_extraction", "q5_char_acc"),
        ("q5_text_extraction", "q5_reader_char_acc"),
    ]:
        assert glued(notebook, key) in results, key  # as written, not as a tuple
    assert page.locator("main table code").count() == 0  # plain text, not inline code
    page.close()


@pytest.fixture(scope="module")
def site(browser):
    make("book", HW5_REPOSITORY_URL=SAMPLE_REPOSITORY)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=ROOT / "_build" / "html")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.mark.parametrize("page_name", toc_pages())
def test_every_page_loads_with_images_and_typeset_math(site, browser, page_name):
    page = browser.new_page()
    errors, outside = [], []
    page.on(
        "console", lambda msg: errors.append(msg.text) if msg.type == "error" else None
    )
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "request",
        lambda req: outside.append(req.url) if not req.url.startswith(site) else None,
    )
    page.goto(f"{site}/{page_name}.html", wait_until="networkidle")
    assert errors == []
    assert outside == []  # everything, MathJax included, comes from the book itself
    broken = page.evaluate(
        "Array.from(document.images)"
        ".filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)"
    )
    assert broken == []
    if page_name.startswith("notebooks/"):
        assert page.evaluate("document.images.length") > 0 or page_name.endswith(
            "q1_theory"
        )
    if page.evaluate("document.querySelectorAll('.math').length") > 0:
        page.wait_for_function(
            "window.MathJax && MathJax.startup && MathJax.startup.promise",
            timeout=30000,
        )
        page.evaluate("MathJax.startup.promise")
        typeset = page.evaluate(
            "document.querySelectorAll('.math mjx-container').length"
        )
        assert typeset == page.evaluate("document.querySelectorAll('.math').length")
        visible = page.evaluate("document.body.innerText")
        assert (
            "$$" not in visible
            and "\\frac" not in visible
            and "\\begin{" not in visible
        )
    if page_name == "notebooks/q1_theory":
        (ROOT / "_build" / "screenshots").mkdir(parents=True, exist_ok=True)
        page.screenshot(
            path=str(ROOT / "_build" / "screenshots" / "q1_theory.png"), full_page=False
        )
    page.close()
