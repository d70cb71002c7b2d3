"""The prose is held to the outputs: every number that the Q2-Q5 answers state is a
value that the notebook computes ({eval}`name`), or is printed by that notebook, or is
one of the handout's own numbers that the question quotes, and a value is quoted in the
section that computes it. The notebooks use only markup that JupyterLab renders. And the Colab
install cell points at the book's repository. test_course_build.py runs the same checks
on the notebooks executed on the course data."""

import re
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

from hwlib.book import GLUED_TEXT, PROSE_VALUE

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ["q2_network", "q3_training", "q4_autoencoder", "q5_text_extraction"]


def prose(cell):
    """A markdown cell's sentences: no headings, quoted questions, math, code or roles."""
    lines = [
        line
        for line in cell.source.splitlines()
        if not line.lstrip().startswith(("#", ">"))
    ]
    text = "\n".join(lines)
    text = re.sub(r"\$\$.*?\$\$", " ", text, flags=re.S)  # display math
    text = re.sub(r"\$[^$]*\$", " ", text)  # inline math
    text = re.sub(r"\{[a-z:]+\}`[^`]*`", " ", text)  # eval, eq
    text = re.sub(r"`[^`]*`", " ", text)  # code
    text = re.sub(r"\]\([^)]*\)", "]", text)  # link targets
    text = re.sub(r"\bQ\d(\.\d)*", " ", text)  # question numbers
    return text


def quoted(nb):
    """The text of the handout's questions, quoted in the notebook, and its outputs."""
    questions = "\n".join(
        line
        for c in nb.cells
        if c.cell_type == "markdown"
        for line in c.source.splitlines()
        if line.lstrip().startswith(">")
    )
    outputs = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            outputs.append(out.get("text", ""))
            outputs.extend(str(v) for v in out.get("data", {}).values())
    return questions + "\n".join(outputs)


def numbers_without_evidence(nb):
    """The numbers in the notebook's answers that no output shows and no quoted question
    states."""
    evidence = quoted(nb)
    return [
        number
        for cell in nb.cells
        if cell.cell_type == "markdown"
        for number in re.findall(r"(?<![\w.])\d+(?:\.\d+)?(?![\w])", prose(cell))
        if number not in evidence
    ]


def prose_values(nb):
    """The names of the variables that the notebook's prose quotes as {eval}`name`."""
    return [
        name
        for cell in nb.cells
        if cell.cell_type == "markdown"
        for name in PROSE_VALUE.findall(cell.source)
    ]


def assigned_values(cell):
    """The names that a code cell assigns a Plain value to: name = Plain(...)."""
    return re.findall(r"^(\w+) = Plain\(", cell.source, flags=re.M)


def quoted_outside_their_section(nb):
    """(name, section) for each value that an answer quotes in another section (a
    heading of level 1 or 2) than the code cell that computes it: a grader reads an
    answer beside the outputs of its own section."""
    section, computed, quotes = None, {}, []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if re.match(r"#{1,2} ", line):
                    section = line
                quotes += [(k, section) for k in PROSE_VALUE.findall(line)]
        else:
            computed.update((k, section) for k in assigned_values(cell))
    return [(key, where) for key, where in quotes if computed.get(key) != where]


def glued_names(nb):
    """The names under which the notebook's stored outputs glued a value."""
    return [
        out["metadata"]["scrapbook"]["name"]
        for cell in nb.cells
        for out in cell.get("outputs", [])
        if "scrapbook" in out.get("metadata", {})
    ]


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_every_number_in_the_answers_comes_from_an_output_or_the_question(name):
    nb = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
    missing = numbers_without_evidence(nb)
    assert missing == [], (
        f"{name}: numbers in the prose that no output shows: {missing}"
    )


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_each_answer_quotes_values_computed_in_its_own_section(name):
    nb = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
    assert quoted_outside_their_section(nb) == []


def test_the_section_rule_catches_a_value_quoted_in_another_section():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("## Q1\n\nText."),
        nbformat.v4.new_code_cell('acc = Plain("0.9")'),
        nbformat.v4.new_markdown_cell("It reaches {eval}`acc` %.\n\n## Q2"),
        nbformat.v4.new_markdown_cell("Q1 reached {eval}`acc` %."),
    ]
    assert quoted_outside_their_section(nb) == [("acc", "## Q2")]


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_each_quoted_value_is_computed_once_and_glued_once_for_the_book(name):
    """JupyterLab shows {eval}`name` as the variable is when the cell renders, the book
    as it was glued: one assignment keeps the two the same."""
    nb = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
    quoted = set(prose_values(nb))
    assigned = [
        k for c in nb.cells if c.cell_type == "code" for k in assigned_values(c)
    ]
    assert quoted and quoted <= set(assigned)
    assert sorted(assigned) == sorted(set(assigned))
    assert sorted(glued_names(nb)) == sorted(assigned)


def test_the_notebooks_use_no_markup_that_jupyterlab_leaves_unresolved():
    """jupyterlab-myst renders each notebook on its own: it has no glue records, no
    bibliography, no figures made by code cells, and no other notebook's equations."""
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        cells = nbformat.read(path, as_version=4).cells
        text = "\n".join(c.source for c in cells if c.cell_type == "markdown")
        assert not re.findall(r"\{(?:glue|numref|cite|ref|doc)[:}]", text), path.name
        labels = set(re.findall(r"^\$\$ \((\S+)\)", text, flags=re.M))
        assert set(re.findall(r"\{eq\}`([^`]*)`", text)) <= labels, path.name


def test_load_ext_glues_each_plain_value_under_its_name_once():
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nb.cells = [
        nbformat.v4.new_code_cell("%load_ext hwlib.book\nfrom hwlib.book import Plain"),
        nbformat.v4.new_code_cell('acc = Plain("0.9")\nn = 3\nprint("run")'),
        nbformat.v4.new_code_cell('acc = Plain("0.9")\nlabel = Plain("x")'),
        nbformat.v4.new_code_cell('acc = Plain("0.8")'),
        nbformat.v4.new_code_cell("%unload_ext hwlib.book"),
        nbformat.v4.new_code_cell('acc = Plain("0.7")'),
    ]
    NotebookClient(nb, timeout=60).execute()
    # The same value once, a changed one again, none after unloading; n is no Plain.
    assert glued_names(nb) == ["acc", "label", "acc"]
    record = nb.cells[1].outputs[-1]
    assert record["data"] == {GLUED_TEXT: "0.9"}
    assert nb.cells[1].outputs[0]["text"] == "run\n"


def test_the_colab_install_cell_uses_the_repository_of_the_config():
    url = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        first = nbformat.read(path, as_version=4).cells[0]
        assert first.cell_type == "code" and "remove-cell" in first.metadata.get(
            "tags", []
        )
        assert f'"hwlib @ git+{url}"' in first.source and "google.colab" in first.source


# Import names of the distributions that Colab lacks or that hwlib does not declare.
DISTRIBUTIONS = {"myst_nb": "myst-nb", "IPython": "ipython", "skimage": "scikit-image"}


def test_the_colab_install_cell_installs_everything_the_notebook_imports():
    """Each module a notebook imports is in the standard library, is hwlib, is one of
    hwlib's declared dependencies, or is installed by the Colab cell itself."""
    import ast

    import tomllib
    from IPython.core.inputtransformer2 import TransformerManager

    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "dependencies"
    ]
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        cells = nbformat.read(path, as_version=4).cells
        installed = set(cells[0].source.split("%pip install")[1].split())
        imported = set()
        for cell in cells:
            if cell.cell_type == "code":
                tree = ast.parse(TransformerManager().transform_cell(cell.source))
                for node in ast.walk(tree):
                    if isinstance(node, ast.Import):
                        imported |= {a.name.split(".")[0] for a in node.names}
                    elif isinstance(node, ast.ImportFrom):
                        imported.add(node.module.split(".")[0])
        missing = [
            module
            for module in imported - set(sys.stdlib_module_names) - {"hwlib"}
            if DISTRIBUTIONS.get(module, module) not in [*declared, *installed]
        ]
        assert missing == [], f"{path.name} imports {missing}, which Colab may lack"
