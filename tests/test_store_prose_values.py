"""book/store_prose_values.py (run by `make notebooks`): the values that the prose quotes
are stored where JupyterLab's MyST renderer reads them, and they are the glued ones."""

import importlib.util
from pathlib import Path

import nbformat
import pytest
from test_prose import NOTEBOOKS

from hwlib.book import GLUED_TEXT, PROSE_VALUE, glued_values

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "book" / "store_prose_values.py"
spec = importlib.util.spec_from_file_location("store_prose_values", SCRIPT)
script = importlib.util.module_from_spec(spec)
spec.loader.exec_module(script)


def stored(cell):
    """{name: text} of a markdown cell's user_expressions."""
    return {
        e["expression"]: e["result"]["data"]["text/plain"]
        for e in cell.metadata.get("user_expressions", [])
    }


def notebook_with_a_value(path, *markdown):
    """A notebook at path whose one code cell glued acc = 0.9, then markdown cells."""
    nb = nbformat.v4.new_notebook()
    code = nbformat.v4.new_code_cell('acc = Plain("0.9")')
    code.outputs = [
        nbformat.v4.new_output(
            "display_data",
            data={GLUED_TEXT: "0.9"},
            metadata={"scrapbook": {"name": "acc", "mime_prefix": GLUED_TEXT[:-10]}},
        )
    ]
    nb.cells = [code, *map(nbformat.v4.new_markdown_cell, markdown)]
    nbformat.write(nb, path)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_the_stored_notebooks_hold_the_glued_value_of_each_quote_for_jupyterlab(name):
    nb = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
    glued = glued_values(nb)
    quoting = 0
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            names = set(PROSE_VALUE.findall(cell.source))
            assert stored(cell) == {k: glued[k] for k in names}
            quoting += bool(names)
    assert quoting > 0


def test_each_cell_stores_its_quoted_values_once_and_a_cell_without_quotes_none(
    tmp_path,
):
    path = tmp_path / "n.ipynb"
    notebook_with_a_value(path, "It reaches {eval}`acc` %, {eval}`acc` again.", "No.")
    script.store_prose_values(path)
    cells = nbformat.read(path, as_version=4).cells
    assert cells[1].metadata.user_expressions == [
        {
            "expression": "acc",
            "result": {"status": "ok", "data": {"text/plain": "0.9"}, "metadata": {}},
        }
    ]
    assert "user_expressions" not in cells[2].metadata


def test_a_quoted_value_that_no_cell_computed_is_refused_and_nothing_written(tmp_path):
    path = tmp_path / "n.ipynb"
    notebook_with_a_value(path, "It reaches {eval}`acc` %.", "And {eval}`loss`.")
    before = path.read_bytes()
    with pytest.raises(SystemExit) as refused:  # a message, not a traceback
        script.store_prose_values(path)
    assert str(path) in str(refused.value) and "loss" in str(refused.value)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["n.ipynb"]
