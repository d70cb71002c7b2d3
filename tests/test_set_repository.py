"""book/set_repository.py (`make repository URL=...`): a fork names itself in one step."""

import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]


def copy_of_the_book(tmp_path):
    (tmp_path / "book").mkdir()
    shutil.copy(ROOT / "book" / "set_repository.py", tmp_path / "book")
    shutil.copy(ROOT / "_config.yml", tmp_path)
    shutil.copytree(
        ROOT / "notebooks", tmp_path / "notebooks", ignore=shutil.ignore_patterns(".*")
    )
    return tmp_path


def run(root, *args):
    return subprocess.run(
        [sys.executable, str(root / "book" / "set_repository.py"), *args],
        capture_output=True,
        text=True,
    )


def test_a_fork_names_itself_in_the_config_and_every_colab_cell(tmp_path):
    root = copy_of_the_book(tmp_path)
    original = {p.name: p.read_bytes() for p in (root / "notebooks").glob("*.ipynb")}
    assert run(root, "https://github.com/someone/fork/").returncode == 0
    config = yaml.safe_load((root / "_config.yml").read_text())
    assert config["repository"]["url"] == "https://github.com/someone/fork"
    for path in sorted((root / "notebooks").glob("*.ipynb")):
        before = nbformat.reads(original[path.name].decode(), as_version=4)
        after = nbformat.read(path, as_version=4)
        assert '"hwlib @ git+https://github.com/someone/fork"' in after.cells[0].source
        assert "hw5-book/hw5-book" not in after.cells[0].source
        assert after.cells[1:] == before.cells[1:]  # nothing else changed
    # Back to the original URL: the files are byte for byte as they were.
    url = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    assert run(root, url).returncode == 0
    assert (root / "_config.yml").read_bytes() == (ROOT / "_config.yml").read_bytes()
    for name, data in original.items():
        assert (root / "notebooks" / name).read_bytes() == data


def test_a_url_that_is_not_a_repository_is_refused_and_nothing_changes(tmp_path):
    root = copy_of_the_book(tmp_path)
    before = (root / "_config.yml").read_bytes()
    result = run(root, "github.com/someone")
    assert result.returncode != 0
    assert "URL 'github.com/someone': expected https://HOST/OWNER/NAME" in result.stderr
    assert "Traceback" not in result.stderr
    assert (root / "_config.yml").read_bytes() == before
