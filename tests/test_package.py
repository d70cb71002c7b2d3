"""hwlib as a package: its modules form layers (following the imports between them, at
the top of a module or inside a function, never leads back to where it started), and it
installs and runs with only the dependencies it declares."""

import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import hwlib
from hwlib import models

PACKAGE = Path(hwlib.__file__).parent


def imports_within_hwlib():
    """{module: the hwlib modules it imports anywhere in its code}."""
    graph = {}
    for path in PACKAGE.glob("*.py"):
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                found |= {node.module} if node.module else {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module == "hwlib":
                found |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                "hwlib."
            ):
                found.add(node.module.split(".")[1])
        graph[path.stem] = found
    return graph


def test_no_module_imports_one_that_imports_it_back():
    graph = imports_within_hwlib()
    assert graph["pages"] == set() and "pages" in graph["data"]  # the former cycle

    def reachable(start):
        seen, todo = set(), list(graph[start])
        while todo:
            module = todo.pop()
            if module not in seen:
                seen.add(module)
                todo += graph.get(module, [])
        return seen

    cycles = [m for m in graph if m in reachable(m)]
    assert cycles == [], graph


@pytest.mark.full
def test_installing_hwlib_alone_gives_a_working_command_line(tmp_path):
    """In a new venv with only hwlib and its declared dependencies, installed from this
    folder (not editable): the command line reads a photo, errors are one line, and downloads
    and networks go to the user's cache folder, not into site-packages."""
    source = tmp_path / "source"  # a copy: building writes build/ beside pyproject.toml
    shutil.copytree(
        PACKAGE, source / "hwlib", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy2(PACKAGE.parent / "pyproject.toml", source)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    # uv resolves hwlib's declared dependencies as pip does, in seconds rather than a
    # minute; nothing but hwlib and those dependencies ends up in the venv. Its bytecode is
    # not compiled: that would take longer than the five commands below take without it.
    install = subprocess.run(
        [Path(sys.executable).parent / "uv", "pip", "install", "--quiet"]
        + ["--python", python, str(source)],
        capture_output=True,
        text=True,
        env=dict(os.environ, UV_LINK_MODE="hardlink"),  # a throwaway venv: no copies
    )
    assert install.returncode == 0, install.stderr[-3000:]
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "user-cache"))
    env.pop("PYTHONPATH", None)

    def hwlib_command(*args, **more_env):
        return subprocess.run(
            [python, "-m", "hwlib", *map(str, args)],
            cwd=tmp_path,  # not the checkout, whose hwlib would come first
            capture_output=True,
            text=True,
            env={**env, **more_env},
        )

    missing = hwlib_command("read", "missing.jpg")
    assert missing.returncode == 1
    assert missing.stderr == "error: missing.jpg: file not found\n"
    saved = hwlib_command("photos", "photos")
    assert saved.returncode == 0, saved.stderr
    # The reading network that make test trained (HW5_CACHE), loaded by the installed hwlib.
    read = hwlib_command("read", "photos/composed_deep.png")
    assert read.returncode == 0, read.stderr
    assert len(read.stdout.splitlines()) == 4  # the file's name and three lines
    where = subprocess.run(
        [
            python,
            "-c",
            "from hwlib import data; print(data.DATA_DIR, data.cache_dir())",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={k: v for k, v in env.items() if k != "HW5_CACHE"},
    )
    user = str(tmp_path / "user-cache" / "hwlib")
    assert where.stdout.split() == [f"{user}/data", f"{user}/.cache"], where.stderr


def test_the_lock_file_pins_a_version_of_every_requirement_that_it_allows():
    """requirements.lock (make lock) is in step with requirements.txt and pyproject.toml:
    each requirement has exactly one pinned version, inside the range it asks for."""
    import re

    import tomllib
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name
    from packaging.version import Version

    root = PACKAGE.parent
    lock = (root / "requirements.lock").read_text()
    pins = {
        canonicalize_name(name): Version(version)
        for name, version in re.findall(r"^([A-Za-z0-9_.\-]+)==(\S+)", lock, re.M)
    }
    assert "\n-e .\n" in lock  # hwlib itself, from this folder
    wanted = [
        line.split("#")[0].strip()
        for line in (root / "requirements.txt").read_text().splitlines()
    ]
    wanted = [w for w in wanted if w and not w.startswith("-e")]
    wanted += tomllib.loads((root / "pyproject.toml").read_text())["project"][
        "dependencies"
    ]
    for requirement in map(Requirement, wanted):
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is not in requirements.lock: run make lock"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"requirements.lock pins {name}=={pins[name]}, outside {requirement}: "
            "run make lock"
        )


def kernels_after(code):
    """The OpenBLAS kernels that a new Python process uses after running code, with
    OPENBLAS_CORETYPE unset."""
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"}
    script = (
        f"{code}\nimport numpy, threadpoolctl\n"
        "print(*{i['architecture'] for i in threadpoolctl.threadpool_info()})"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_importing_hwlib_first_pins_the_blas_kernels():
    """On a Linux CPU with AVX2 and FMA, importing hwlib before NumPy gives OpenBLAS's
    Haswell kernels, which the stored outputs were trained with, whatever the CPU's own
    are (the test tells the two apart on a CPU whose own kernels are others, AVX-512's
    say); importing NumPy first leaves them to the processes that it starts, and
    setting OPENBLAS_CORETYPE leaves them alone."""
    cpuinfo = Path("/proc/cpuinfo")
    flags = re.search(
        r"^flags\s*:(.*)$", cpuinfo.read_text() if cpuinfo.exists() else "", re.M
    )
    if not (flags and {"avx2", "fma"} <= set(flags.group(1).split())):
        pytest.skip(
            "not a Linux CPU with AVX2 and FMA: hwlib leaves OpenBLAS's kernels alone"
        )
    # This process imported hwlib first (conftest): it runs the kernels that it names.
    assert models.blas_kernels().lower() == os.environ["OPENBLAS_CORETYPE"].lower()
    assert kernels_after("import hwlib") == hwlib.STORED_KERNELS == "Haswell"
    own = kernels_after("pass")
    numpy_first = "import numpy\nimport hwlib\nprint(os.environ['OPENBLAS_CORETYPE'])"
    # This process keeps its kernels; the processes that it starts get Haswell's.
    assert kernels_after(f"import os\n{numpy_first}") == f"Haswell\n{own}"
    chosen = "import os\nos.environ['OPENBLAS_CORETYPE'] = 'Sandybridge'\nimport hwlib"
    assert kernels_after(chosen) == "Sandybridge"
