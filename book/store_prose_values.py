"""Store in each notebook the values that its prose quotes, for JupyterLab: `make
notebooks` runs this on the notebooks it has just executed.

jupyterlab-myst shows {eval}`name` as the markdown cell's metadata "user_expressions"
holds it; it fills that metadata itself when it asks a running kernel. This fills it
from the values that the executed notebook glued (`%load_ext hwlib.book`), so that a
notebook opened in JupyterLab shows the stored values in its prose, as it shows its
stored outputs, until it runs again.

    python book/store_prose_values.py notebooks/*.ipynb
"""

import sys
from pathlib import Path

import nbformat

from hwlib.book import PROSE_VALUE, glued_values
from hwlib.data import atomic_path


def store_prose_values(path):
    """Set each markdown cell's user_expressions from the notebook's glued values."""
    nb = nbformat.read(path, as_version=4)
    glued = glued_values(nb)
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        names = list(dict.fromkeys(PROSE_VALUE.findall(cell.source)))
        missing = [name for name in names if name not in glued]
        if missing:
            raise SystemExit(
                f"{path}: the prose quotes {', '.join(missing)}, which no cell computed "
                "as a Plain value (execute the notebook first: make notebooks)"
            )
        cell.metadata.pop("user_expressions", None)
        if names:
            cell.metadata["user_expressions"] = [
                {
                    "expression": name,
                    "result": {
                        "status": "ok",
                        "data": {"text/plain": glued[name]},
                        "metadata": {},
                    },
                }
                for name in names
            ]
    with atomic_path(Path(path)) as tmp:
        nbformat.write(nb, str(tmp))


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        store_prose_values(arg)
