"""book/store_prose_values.py (run by `make notebooks`): the values that the prose quotes
are stored where JupyterLab's MyST renderer reads them, and they are the glued ones."""

import importlib.util
from pathlib import Path

import nbformat
import pytest

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


def glue_record(name, text):
    return nbformat.v4.new_output(
        "display_data",
        data={"application/papermill.record/text/plain": text},
        metadata={
            "scrapbook": {"name": name, "mime_prefix": "application/papermill.record/"}
        },
    )


@pytest.mark.parametrize(
    "name",
    ["q2_network", "q3_training", "q4_autoencoder", "q5_text_extraction"],
)
def test_the_stored_notebooks_show_their_glued_values_in_jupyterlab(name):
    nb = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
    glued = {
        out.metadata["scrapbook"]["name"]: out.data[
            "application/papermill.record/text/plain"
        ]
        for cell in nb.cells
        for out in cell.get("outputs", [])
        if "scrapbook" in out.get("metadata", {})
    }
    cells = [c for c in nb.cells if c.cell_type == "markdown" and "{eval}" in c.source]
    assert cells
    for cell in cells:
        values = stored(cell)
        assert values and all(f"{{eval}}`{k}`" in cell.source for k in values)
        assert values == {k: glued[k] for k in values}


def test_a_quoted_value_that_no_cell_computed_is_refused_and_nothing_written(tmp_path):
    nb = nbformat.v4.new_notebook()
    code = nbformat.v4.new_code_cell('acc = Plain("0.9")')
    code.outputs = [glue_record("acc", "0.9")]
    nb.cells = [
        code,
        nbformat.v4.new_markdown_cell("It reaches {eval}`acc` %, {eval}`acc` again."),
        nbformat.v4.new_markdown_cell("No value here."),
    ]
    path = tmp_path / "n.ipynb"
    nbformat.write(nb, path)
    script.store_prose_values(path)
    cells = nbformat.read(path, as_version=4).cells
    assert (
        stored(cells[1]) == {"acc": "0.9"}
        and len(cells[1].metadata.user_expressions) == 1
    )
    assert "user_expressions" not in cells[2].metadata

    nb.cells.append(nbformat.v4.new_markdown_cell("And {eval}`loss`."))
    nbformat.write(nb, path)
    before = path.read_bytes()
    with pytest.raises(SystemExit) as refused:  # a message, not a traceback
        script.store_prose_values(path)
    assert str(path) in str(refused.value) and "loss" in str(refused.value)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["n.ipynb"]
