"""The products a person gets: the HTML book in a real browser, and the PDF for grading.

Both build the book with the README's commands (make book, make pdf), on the data that
make test sets (the built-in default). They skip, saying why, only where the machine
lacks Chromium or XeLaTeX; CI installs both.
"""

import functools
import http.server
import json
import os
import re
import shutil
import subprocess
import threading
from pathlib import Path

import pytest
import yaml

# Builds, browsers, TeX or trained networks: not in make check.
pytestmark = pytest.mark.full

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


def make(target, out, **env):
    """Run the README's make target, building into out/_build instead of the user's."""
    result = subprocess.run(
        ["make", target, f"OUT={out}"],
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

    from hwlib.book import glued_values

    nb = nbformat.read(ROOT / "notebooks" / f"{notebook}.ipynb", as_version=4)
    return glued_values(nb)[key]


def execution_cache(build):
    """The execution cache that make book uses in the _build folder build: one folder
    per data source and hwlib version (book/_ext/book_html.py)."""
    from jupyter_cache import get_cache

    from hwlib import book

    return get_cache(str(build / ".jupyter_cache" / book.execution_key()))


def cache_stored_outputs(out, names):
    """Put these notebooks, with their stored outputs, in the execution cache that make
    book in out will use, so that the build takes their outputs instead of executing
    them. make test's nbval executes every notebook and fails where an output differs
    from the stored one; executing them again here would only repeat that work."""
    cache = execution_cache(out / "_build")
    for name in names:
        cache.cache_notebook_file(
            ROOT / "notebooks" / f"{name}.ipynb", check_validity=False
        )


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """make book into a temporary folder, beside the other test worker's tests: the
    build must not depend on an idle machine (benchmarks/bench_build.py --busy times it
    beside two CPU-bound processes). Q2-Q5 come from their stored outputs (nbval checks
    those); Q1 is executed by the build, in its parallel executor. Returns its _build."""
    out = tmp_path_factory.mktemp("book")
    cache_stored_outputs(
        out, ["q2_network", "q3_training", "q4_autoencoder", "q5_text_extraction"]
    )
    make("book", out, HW5_REPOSITORY_URL=SAMPLE_REPOSITORY)
    return out / "_build"


def test_the_build_executes_the_notebook_that_is_not_cached(built):
    cached = {Path(r.uri).stem for r in execution_cache(built).list_cache_records()}
    assert "q1_theory" in cached  # not cached before the build: executed, then cached


@pytest.fixture(scope="module")
def pdf_text(built):
    if shutil.which("xelatex") is None:
        pytest.skip(
            "xelatex is not installed: see the README for the TeX packages that make pdf needs"
        )
    make("pdf", built.parent)
    # make pdf after make book puts the PDF in the site too, where the landing page links it
    assert (built / "html" / "book.pdf").read_bytes() == (
        built / "pdf/book.pdf"
    ).read_bytes()
    from pypdf import PdfReader

    pages = [
        page.extract_text() or "" for page in PdfReader(built / "pdf/book.pdf").pages
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
    # The drawing page gives the PDF its text, not its instructions for a canvas.
    assert "ThispageisinteractiveintheHTMLbook" in text
    assert "Drawacapitalletter" not in text


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
        ("q3_training", "q3_cnn_test_acc"),
        ("q5_text_extraction", "q5_cnn_char_acc"),
    ]:
        assert glued(notebook, key) in results, key  # as written, not as a tuple
    assert page.locator("main table code").count() == 0  # plain text, not inline code
    page.locator("main p a[href='try.html']").click()  # the link beside the PDF's
    assert page.url == f"{site}/book/try.html"
    page.close()


@pytest.fixture(scope="module")
def site(browser, built):

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=built / "html")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def watch(page, site):
    """Lists that fill with the page's console errors and its requests outside site."""
    errors, outside = [], []
    page.on(
        "console", lambda msg: errors.append(msg.text) if msg.type == "error" else None
    )
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "request",
        lambda req: outside.append(req.url) if not req.url.startswith(site) else None,
    )
    return errors, outside


@pytest.mark.parametrize("page_name", toc_pages())
def test_every_page_loads_with_images_and_typeset_math(
    site, browser, page_name, screenshots
):
    page = browser.new_page()
    errors, outside = watch(page, site)
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
        page.screenshot(path=str(screenshots / "q1_theory.png"), full_page=False)
    page.close()


# Strokes of the drawing page's test characters, as points in [0, 1] of the canvas.
DRAWINGS = {
    "L": [[(0.3, 0.15), (0.3, 0.85), (0.72, 0.85)]],
    "7": [[(0.25, 0.15), (0.75, 0.15), (0.4, 0.88)]],
    "O": [
        [
            (0.5, 0.12),
            (0.75, 0.25),
            (0.8, 0.5),
            (0.75, 0.75),
            (0.5, 0.88),
            (0.25, 0.75),
            (0.2, 0.5),
            (0.25, 0.25),
            (0.5, 0.12),
        ]
    ],
}
NEXT_FRAME = "new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"


def open_try_page(site, browser, **context_options):
    """The drawing page, with the console errors and the requests to outside the book."""
    context = browser.new_context(
        viewport={"width": 1200, "height": 900}, **context_options
    )
    page = context.new_page()
    errors, outside = watch(page, site)
    page.goto(f"{site}/book/try.html", wait_until="networkidle")
    return page, errors, outside


def canvas_points(page, stroke):
    box = page.locator(".try-canvas").bounding_box()
    return [
        (box["x"] + u * box["width"], box["y"] + v * box["height"]) for u, v in stroke
    ]


def draw_with_mouse(page, strokes):
    page.click(".try-clear")
    for stroke in strokes:
        points = canvas_points(page, stroke)
        page.mouse.move(*points[0])
        page.mouse.down()
        for point in points[1:]:
            page.mouse.move(*point, steps=12)
        page.mouse.up()
    return page_state(page)


def page_state(page):
    """What the page read after the next frame: {mask: {height, width, data}, input,
    probabilities: {network: 36 values}}, as plain lists (null before any drawing)."""
    page.evaluate(NEXT_FRAME)
    return page.evaluate(
        """(() => {
        const s = window.tryNetworksState;
        const m = s.mask;
        return {
          mask: m && {height: m.height, width: m.width, data: Array.from(m.mask)},
          input: s.input && Array.from(s.input),
          probabilities: s.probabilities,
        };
        })()"""
    )


def page_reading(state):
    """The page's mask, its 1024 inputs and every network's probabilities, as arrays."""
    import numpy as np

    mask = state["mask"]
    return (
        np.array(mask["data"], bool).reshape(mask["height"], mask["width"]),
        np.array(state["input"]),
        {name: np.array(p) for name, p in state["probabilities"].items()},
    )


def test_the_drawing_page_reads_drawings_as_python_does(site, browser, screenshots):
    """Mouse drawings of L, 7 and O: the page prepares them as text.prepare_crop and
    reads them as classifier_probs with the book's cached networks; each character is
    in every network's top 3; nothing is asked of the outside world; the console is
    clean."""
    import numpy as np

    from hwlib import data, models, text, train

    builtin = data.Source(data.BUILTIN)
    style = text.CropStyle.default(builtin)
    params = {name: get(builtin)[0] for name, get in models.READERS.items()}
    page, errors, outside = open_try_page(site, browser)
    top3, differences = {}, {"input": [], "probabilities": []}
    for char, strokes in DRAWINGS.items():
        mask, row, probs = page_reading(draw_with_mouse(page, strokes))
        assert 100 < mask.shape[0] < 280 and mask.any()  # the drawn box, cropped
        differences["input"].append(np.abs(row - text.prepare_crop(mask, style)).max())
        assert differences["input"][-1] < 0.02, char
        for name, p in params.items():
            expected = train.classifier_probs(p, row[None])[0]
            differences["probabilities"].append(np.abs(probs[name] - expected).max())
            assert differences["probabilities"][-1] < 1e-4, (char, name)
            top3[char, name] = [data.CLASSES[k] for k in np.argsort(-probs[name])[:3]]
            assert char in top3[char, name], (char, name, top3[char, name])
        # The bars show the chosen network's five likeliest classes, best first.
        for name in models.READERS:
            page.check(f"input[value='{name}']")
            labels = page.locator(".try-bars .try-label").all_inner_texts()
            assert labels == [data.CLASSES[k] for k in np.argsort(-probs[name])[:5]]
        # The preview is the network's input, upright.
        shown = page.evaluate(
            "Array.from(document.querySelector('.try-input').getContext('2d')"
            ".getImageData(0, 0, 32, 32).data.filter((_, i) => i % 4 === 0))"
        )
        upright = row.reshape(32, 32).T
        assert np.abs(np.array(shown).reshape(32, 32) / 255 - upright).max() <= 1 / 255
    print("top 3 of each network:", top3)
    print(
        {
            k: f"largest difference from Python {max(v):.1e}"
            for k, v in differences.items()
        }
    )
    page.locator("#try-networks").screenshot(path=str(screenshots / "try_networks.png"))
    page.click(".try-clear")
    assert page_state(page)["input"] is None
    assert "Draw a letter or a digit" in page.inner_text(".try-bars")
    assert errors == [] and outside == []
    page.context.close()


@pytest.mark.parametrize("kind", ["touch", "pen"])
def test_the_drawing_page_takes_touch_and_pen(site, browser, kind):
    """A finger's or a pen's strokes draw too, and touch does not scroll the page."""
    import numpy as np

    from hwlib import data

    page, errors, _ = open_try_page(site, browser, has_touch=kind == "touch")
    page.evaluate(
        "document.querySelector('.try-canvas').addEventListener("
        "'pointerdown', e => window.pointerKind = e.pointerType)"
    )
    device = page.context.new_cdp_session(page)
    points = canvas_points(page, DRAWINGS["L"][0])
    path = [points[0]]
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        path += [
            (x0 + (x1 - x0) * t / 12, y0 + (y1 - y0) * t / 12) for t in range(1, 13)
        ]
    scroll = page.evaluate("window.scrollY")
    for step, (x, y) in enumerate(path):
        if kind == "touch":
            device.send(
                "Input.dispatchTouchEvent",
                {
                    "type": "touchStart" if step == 0 else "touchMove",
                    "touchPoints": [{"x": x, "y": y}],
                },
            )
        else:
            device.send(
                "Input.dispatchMouseEvent",
                {
                    "type": "mousePressed" if step == 0 else "mouseMoved",
                    "x": x,
                    "y": y,
                    "button": "left",
                    "buttons": 1,
                    "clickCount": 1,
                    "pointerType": "pen",
                },
            )
    if kind == "touch":
        device.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    else:
        device.send(
            "Input.dispatchMouseEvent",
            {
                "type": "mouseReleased",
                "x": x,
                "y": y,
                "button": "left",
                "clickCount": 1,
                "pointerType": "pen",
            },
        )
    _, _, probs = page_reading(page_state(page))
    assert page.evaluate("window.pointerKind") == kind
    for name, p in probs.items():
        assert "L" in [data.CLASSES[k] for k in np.argsort(-p)[:3]], name
    assert page.evaluate("window.scrollY") == scroll
    assert errors == []
    page.context.close()


def test_the_drawing_page_weights_are_compact(built):
    """Each network's exported weights, float32 in base64, stay under 2 MB, and the
    page's whole data under 3 MB (the reading network's weights take 1.6 MB of it)."""
    from hwlib import models

    script = (built / "html" / "_static" / "try-networks-weights.js").read_text()
    exported = json.loads(script[script.index("{") : script.rindex("}") + 1])
    sizes = {
        name: sum(
            len(layer["W"]) + len(layer["b"])
            for layer in network["convolutions"] + network["layers"]
        )
        for name, network in exported["networks"].items()
    }
    assert set(sizes) == set(models.READERS) and max(sizes.values()) < 2_000_000, sizes
    assert len(script) < 3_000_000, len(script)


def test_the_drawing_page_works_from_the_built_files_alone(built, browser):
    """Opened from disk, with no server, the page still loads every network and reads."""
    from hwlib import models

    page = browser.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto((built / "html" / "book" / "try.html").as_uri())
    for name in models.READERS:
        label = page.inner_text(f"label:has(input[value='{name}'])")
        assert "on the test set" in label, name
    # The network that reads unless told otherwise, as on the command line.
    assert page.is_checked(f"input[value='{models.DEFAULT_READER}']")
    state = draw_with_mouse(page, DRAWINGS["7"])
    assert len(state["input"]) == 1024 and set(state["probabilities"]) == set(
        models.READERS
    )
    assert errors == []
    page.close()
