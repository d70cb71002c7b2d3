"""The book on the course data, as a student with the course files builds it: every
notebook executes on HW5_REAL_DATA (its emnist36/ and the four course photos), and its
answers pass the prose checks of test_prose.py on those outputs.

It trains every network of the book on that data and executes the five notebooks, about
five minutes on two cores, so it runs only with HW5_COURSE_BUILD=1 beside HW5_REAL_DATA
(see the README); otherwise it is skipped, with that reason.
"""

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from test_prose import NOTEBOOKS, numbers_without_evidence, quoted_outside_their_section

from hwlib import data

pytestmark = pytest.mark.full

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def course_notebooks(real_data, tmp_path_factory):
    """Q2-Q5 executed on the course data, with networks trained on it in a new cache."""
    if os.environ.get("HW5_COURSE_BUILD") != "1":
        pytest.skip(
            "HW5_COURSE_BUILD is not 1: the course-data build trains every network "
            "on HW5_REAL_DATA (about five minutes)"
        )
    cache = tmp_path_factory.mktemp("course_cache")
    executed = {}
    with pytest.MonkeyPatch.context() as env:  # the kernels inherit it; restored after
        env.setenv("HW5_DATA", str(real_data))
        env.setenv("HW5_CACHE", str(cache))
        env.setenv("HW5_PROGRESS", "0")
        env.setenv("HW5_TRAIN", "1")
        subprocess.run([sys.executable, "-m", "hwlib", "train"], check=True)
        env.setenv("HW5_TRAIN", "0")  # the kernels only load, as in a book build
        for name in NOTEBOOKS:
            nb = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
            path = {"metadata": {"path": str(ROOT / "notebooks")}}
            NotebookClient(nb, timeout=600, resources=path).execute()
            executed[name] = nb
        executed["data"] = data.data_source().describe()
    return executed


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_on_the_course_data_every_number_in_the_answers_comes_from_an_output(
    course_notebooks, name
):
    missing = numbers_without_evidence(course_notebooks[name])
    assert missing == [], (
        f"{name}: numbers in the prose that no output shows: {missing}"
    )


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_on_the_course_data_each_answer_quotes_values_of_its_own_section(
    course_notebooks, name
):
    assert quoted_outside_their_section(course_notebooks[name]) == []


@pytest.mark.parametrize(
    "name", ["q3_training", "q4_autoencoder", "q5_text_extraction"]
)
def test_on_the_course_data_the_notebooks_say_they_read_the_course_files(
    course_notebooks, name
):
    outputs = "".join(
        out.get("text", "")
        for cell in course_notebooks[name].cells
        for out in cell.get("outputs", [])
    )
    assert (
        "built-in" not in course_notebooks["data"]
    )  # the course files, not the default
    assert course_notebooks["data"] in outputs
