"""The book's execution cache serves no stale outputs: a notebook is re-executed when the
data source, the data's files, hwlib's code or the notebook's own code changes.

book/_ext/book_html.py keeps the outputs in a folder named by hwlib.book.execution_key,
and jupyter-cache keys each notebook by its code within it.
"""

import shutil
from pathlib import Path

import nbformat
import pytest
from jupyter_cache import get_cache
from jupyter_cache.base import CacheBundleIn

from hwlib import book, data

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "q1_theory.ipynb"


@pytest.fixture()
def course_folder(tmp_path):
    folder = tmp_path / "course"
    folder.mkdir()
    for name in data.NIST36_FILES:
        (folder / name).write_bytes(b"stand-in " + name.encode())
    return folder


def test_the_key_follows_the_data_source(course_folder, monkeypatch):
    monkeypatch.setenv("HW5_DATA", "builtin")
    builtin = book.execution_key()
    monkeypatch.setenv("HW5_DATA", str(course_folder))
    course = book.execution_key()
    assert course != builtin
    monkeypatch.setenv("HW5_DATA", "builtin")
    assert book.execution_key() == builtin  # switching back finds the old outputs


def test_the_key_follows_the_contents_of_the_data_files(course_folder, monkeypatch):
    monkeypatch.setenv("HW5_DATA", str(course_folder))
    before = book.execution_key()
    (course_folder / "nist36_valid.mat").write_bytes(b"other contents")
    assert book.execution_key() != before
    (course_folder / "ground_truth.json").write_text("{}")  # read beside the photos
    (course_folder / "01_list.jpg").write_bytes(b"a photo")
    changed = book.execution_key()
    (course_folder / "ground_truth.json").write_text('{"01_list.jpg": ["A"]}')
    assert book.execution_key() != changed


def test_the_key_follows_hwlibs_code(tmp_path, monkeypatch):
    copy = tmp_path / "hwlib"
    shutil.copytree(Path(book.__file__).parent, copy)
    monkeypatch.setattr(book, "__file__", str(copy / "book.py"))
    monkeypatch.setenv("HW5_DATA", "builtin")
    before = book.execution_key()
    with open(copy / "train.py", "a") as f:
        f.write("\n# a change\n")
    assert book.execution_key() != before


def test_a_change_of_a_notebooks_code_misses_the_cache_and_of_its_prose_does_not(
    tmp_path,
):
    cache = get_cache(str(tmp_path / "cache"))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    cache.cache_notebook_bundle(CacheBundleIn(nb, "q1"), check_validity=False)
    prose = next(c for c in nb.cells if c.cell_type == "markdown")
    prose.source += "\nOne more sentence."
    assert cache.match_cache_notebook(nb) is not None
    code = next(c for c in nb.cells if c.cell_type == "code")
    code.source += "\nprint('changed')"
    with pytest.raises(KeyError):
        cache.match_cache_notebook(nb)
