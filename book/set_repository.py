"""Name a new repository for the book: `make repository URL=https://github.com/OWNER/NAME`.

Writes URL into `_config.yml` (the book's GitHub, Colab and Binder buttons) and into
the hidden first cell of every notebook, which installs hwlib on Colab from that
repository. A fork runs it once, so that Colab runs the fork's own hwlib. Colab tells a
notebook nothing about where it was opened from, so the URL has to be in the notebook.
"""

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
URL = re.compile(r"https://[\w.-]+/[\w.-]+/[\w.-]+")


def set_repository(url, root=ROOT):
    """Replace the repository URL in root's _config.yml and notebooks' install cells."""
    url = url.strip().rstrip("/")
    if not URL.fullmatch(url):
        raise SystemExit(
            f"URL {url!r}: expected https://HOST/OWNER/NAME, "
            "for example https://github.com/you/hw5-book"
        )
    config = root / "_config.yml"
    text, n = re.subn(
        r"(?m)^(repository:\n  url: ).*$",
        lambda m: m.group(1) + url,
        config.read_text(),
    )
    if n != 1:
        raise SystemExit(f"{config}: no 'repository: url:' setting found")
    config.write_text(text)
    for path in sorted((root / "notebooks").glob("*.ipynb")):
        notebook = json.loads(path.read_text())
        cell = notebook["cells"][0]
        source = "".join(cell["source"])
        new, n = re.subn(r'"hwlib @ git\+[^"]*"', f'"hwlib @ git+{url}"', source)
        if n != 1:
            raise SystemExit(f"{path}: its first cell does not install hwlib from git")
        cell["source"] = new.splitlines(keepends=True)
        path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n")
    print(f"repository: {url} (in _config.yml and the notebooks' Colab cells)")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: make repository URL=https://github.com/OWNER/NAME")
    set_repository(sys.argv[1])
