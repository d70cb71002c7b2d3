"""How long a fresh clone's first `make book` takes, and a rebuild, against one training
of the Q3.1 network (models.NIST36_RECIPE, best of three, trained as the book trains it:
one BLAS thread) measured in the same run.

The repository's HEAD is cloned into a temporary folder and built there with an empty
network cache and no _build, using this project's .venv (so no install is timed). The
data is the configured one (HW5_DATA, as for the book). With --busy N, N CPU-bound
processes run beside everything, the reference training included.

Usage: python benchmarks/bench_build.py [--busy N]
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from threadpoolctl import threadpool_limits

from hwlib import data, models, train

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv"


def q31_seconds(repeat=3):
    """The best of `repeat` trainings of the Q3.1 network, in seconds."""
    x, y = data.load_nist36("train")
    valid = data.load_nist36("valid")
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        with threadpool_limits(limits=1):
            train.train_classifier(x, y, valid, models.NIST36_RECIPE)
        times.append(time.perf_counter() - start)
    return min(times)


def make_book(clone):
    """Seconds that `make book` takes in clone; its output goes to clone/build.log."""
    env = dict(os.environ, HW5_CACHE=str(clone / ".cache"), PYTHONPATH=str(clone))
    command = ["make", "-o", f"{VENV}/.installed", f"VENV={VENV}", "book"]
    start = time.perf_counter()
    with open(clone / "build.log", "a") as log:
        result = subprocess.run(command, cwd=clone, env=env, stdout=log, stderr=log)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"make book failed in {clone}: see {clone / 'build.log'}")
    return seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--busy", type=int, default=0, metavar="N")
    args = parser.parse_args()
    busy = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"])
        for _ in range(args.busy)
    ]
    try:
        measure()
    finally:
        for process in busy:
            process.kill()


def measure():
    """Print the reference training's time, and the first and second builds'."""
    print("Data:", data.data_source().describe())
    reference = q31_seconds()
    print(f"one training of the Q3.1 network (best of 3): {reference:.1f} s")
    with tempfile.TemporaryDirectory() as tmp:
        clone = Path(tmp) / "clone"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        first = make_book(clone)
        print(
            f"first make book: {first:.0f} s = {first / reference:.1f} x the training"
        )
        again = make_book(clone)
        print(
            f"second make book: {again:.0f} s = {again / reference:.1f} x the training"
        )


if __name__ == "__main__":
    main()
