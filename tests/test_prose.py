"""The prose is held to the outputs: every number that the Q2-Q5 answers state is glued,
or printed by that notebook, or is one of the handout's own numbers that the question
quotes, and a glued value is quoted in the section that computes it. And the Colab
install cell points at the book's repository. test_course_build.py runs the same checks
on the notebooks executed on the course data."""

import re
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

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
    text = re.sub(r"\{[a-z:]+\}`[^`]*`", " ", text)  # glue, numref, eq, cite
    text = re.sub(r"`[^`]*`", " ", text)  # code
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


def glued_outside_their_section(nb):
    """(key, section) for each glued value that an answer quotes in another section
    (a heading of level 1 or 2) than the code cell that computes it: a grader reads an
    answer beside the outputs of its own section."""
    section, glued, quotes = None, {}, []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if re.match(r"#{1,2} ", line):
                    section = line
                quotes += [
                    (k, section) for k in re.findall(r"\{glue:text\}`([^`:]+)", line)
                ]
        else:
            glued.update(
                (k, section) for k in re.findall(r'glue\(\s*"([^"]+)"', cell.source)
            )
    return [(key, where) for key, where in quotes if glued.get(key) != where]


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
    assert glued_outside_their_section(nb) == []


def test_the_section_rule_catches_a_value_quoted_in_another_section():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("## Q1\n\nText."),
        nbformat.v4.new_code_cell('glue("acc", Plain("0.9"), display=False)'),
        nbformat.v4.new_markdown_cell("It reaches {glue:text}`acc` %.\n\n## Q2"),
        nbformat.v4.new_markdown_cell("Q1 reached {glue:text}`acc` %."),
    ]
    assert glued_outside_their_section(nb) == [("acc", "## Q2")]


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
