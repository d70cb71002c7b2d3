"""How well and how fast Q5's reader reads, with each network, over several training seeds.

For each network (Q3.1, the reading network and the convolutional network) and each
training seed, trained on the configured data (HW5_DATA, as for the book): its test
accuracy and training time, and the character accuracy, line count and word spacing of
every page it reads. The pages are the course photos (from a folder given with --photos,
such as the folder with images/ that HW5_REAL_DATA names), the four composed default
photos, and more pages composed here, with texts that mix words and numbers, which the
reader was never tuned on. For the composed pages, whose every character is a known test
image: how many characters a network misreads both on the page and alone (its image
given to the network as it is), only on the page (cropped from the photo, and decided
with its word), and only alone. Where the tesseract command is installed, its reading of
the same pages, scored the same way, for comparison (it is no dependency of the
project). Last, the time and peak memory of `python -m hwlib read` on a blank 9000x7000
photo.

Usage: python benchmarks/bench_reader.py [--photos FOLDER] [--seeds 0 1 2]
"""

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import hwlib  # noqa: F401  first: the BLAS kernels of the stored outputs (see hwlib)

# isort: split

import numpy as np
from PIL import Image
from threadpoolctl import threadpool_limits

from hwlib import data, models, text, train

# Texts of our own, composed from the test split like the default photos.
OWN_TEXTS = {
    "address": ["221B BAKER STREET", "LONDON NW1 6XE", "UNITED KINGDOM"],
    "meeting": ["MEETING ON 12 MAY 2025", "ROOM 4 AT 10 30", "BRING 3 COPIES"],
    "shopping": ["SHOPPING LIST", "3 APPLES", "2 LOAVES OF BREAD", "12 EGGS", "1 MILK"],
    "phone": ["CALL 412 268 3818", "BEFORE 5 PM", "ASK FOR ROOM 7"],
    "order": ["ORDER 7731 SHIPPED", "ARRIVES JUNE 9", "TRACKING 40 228 19"],
    "chapter": ["PAGE 17 OF 20", "CHAPTER 3 RESULTS", "TABLE 6 AND FIGURE 8"],
}
OWN_SEED = 7


def error_sources(truth, read, alone):
    """Where a page's character errors come from, for a page composed of known images.

    truth, read and alone are the true characters, the page's reading and the network's
    reading of each character's image alone, all in reading order without spaces.
    Returns (errors made on the page and on the image alone, errors made only on the
    page, errors made only on the image alone), or None when the reading has another
    number of characters, so that characters cannot be paired.
    """
    if len(read) != len(truth):
        return None
    both = page_only = alone_only = 0
    for want, got, single in zip(truth, read, alone):
        if got != want and single != want:
            both += 1
        elif got != want:
            page_only += 1
        elif single != want:
            alone_only += 1
    return both, page_only, alone_only


def print_error_sources(params, photos, read, x):
    """One line: error_sources summed over the photos, read as read (from read_pages),
    each composed from its rows of x (data.composed_photos); a photo whose reading has
    another number of characters is left out, and counted."""
    counts, characters, left_out = np.zeros(3, int), 0, 0
    for photo in photos:
        probs = train.classifier_probs(params, x[photo.rows])
        alone = "".join(data.CLASSES[k] for k in probs.argmax(axis=1))
        truth = "".join(photo.lines).replace(" ", "")
        got = "".join(read[photo.name][0].lines).replace(" ", "")
        sources = error_sources(truth, got, alone)
        if sources is None:
            left_out += 1
        else:
            counts += sources
            characters += len(truth)
    both, page_only, alone_only = counts
    line = (
        f"{'':13}{characters} characters: {both} misread on the page and alone, "
        f"{page_only} only on the page, {alone_only} only alone; without the errors "
        f"only on the page {100 * (1 - both / max(characters, 1)):.1f} %"
    )
    if left_out:
        line += f" ({left_out} of {len(photos)} pages left out: another number of characters)"
    print(line)


def read_pages(params, style, photos):
    """{name: (character accuracy, lines right, spaces right or None)}, seconds per page,
    and the readings (text.read_photos)."""
    start = time.perf_counter()
    read = text.read_photos(photos, params, style)
    seconds = (time.perf_counter() - start) / len(photos)
    scores = {}
    for photo in photos:
        _, (acc, lines_right, spaces) = read[photo.name]
        spaces_right = spaces == len(photo.lines) if photo.spaces_meaningful else None
        scores[photo.name] = (acc, lines_right, spaces_right)
    return scores, seconds, read


def print_scores(title, scores):
    accs = [acc for acc, _, _ in scores.values()]
    marks = {
        name: ("" if lines else " L!") + (" S!" if spaces is False else "")
        for name, (_, lines, spaces) in scores.items()
    }
    cells = "  ".join(
        f"{name.removeprefix('composed_')[:10]:>10} {100 * acc:5.1f}{marks[name]}"
        for name, (acc, _, _) in scores.items()
    )
    print(
        f"    {title:8} {cells}   min {100 * min(accs):5.1f}  mean {100 * np.mean(accs):5.1f}"
    )


def tesseract_pages(photos):
    """{name: (character accuracy, lines right, spaces right or None)} of Tesseract's
    reading of each page (one block of text, --psm 6), capitals and digits kept, and
    seconds per page."""
    start, scores = time.perf_counter(), {}
    with tempfile.TemporaryDirectory() as folder:
        for photo in photos:
            path = Path(folder) / "page.png"
            Image.fromarray(photo.image).save(path)
            out = subprocess.run(
                ["tesseract", str(path), "-", "--psm", "6"],
                capture_output=True,
                text=True,
            ).stdout
            lines = [
                re.sub(r"[^A-Z0-9 ]", "", line.upper()) for line in out.splitlines()
            ]
            lines = [" ".join(line.split()) for line in lines if line.strip()]
            acc, lines_right, spaces = text.score(lines, photo.lines)
            spaces_right = (
                spaces == len(photo.lines) if photo.spaces_meaningful else None
            )
            scores[photo.name] = (acc, lines_right, spaces_right)
    return scores, (time.perf_counter() - start) / len(photos)


def large_photo():
    """Seconds and peak memory (MB) of python -m hwlib read on a blank 9000x7000 JPEG.

    The network that it reads with is trained and cached first if it is missing, so
    that the time is the reading's, not a first training's."""
    models.READERS[models.DEFAULT_READER]()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "blank.jpg"
        Image.new("RGB", (9000, 7000), (236, 233, 226)).save(path, quality=85)
        probe = (
            "import resource, subprocess, sys, time; t = time.perf_counter(); "
            f"r = subprocess.run([sys.executable, '-m', 'hwlib', 'read', {str(path)!r}], "
            "stdout=subprocess.DEVNULL); "
            "print(time.perf_counter() - t, "
            "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, r.returncode)"
        )
        out = subprocess.run(
            [sys.executable, "-c", probe], capture_output=True, text=True
        )
        seconds, megabytes, code = out.stdout.split()
        return float(seconds), float(megabytes), int(code)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=Path, help="a folder with the course photos")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args()
    source = data.data_source()
    print("Data:", source.describe())
    train_x, train_y = data.load_nist36("train")
    valid = data.load_nist36("valid")
    style = text.CropStyle.from_training(train_x)
    test_x, test_y = data.load_nist36("test")
    page_sets = {
        "composed": data.load_photos(data.Source(data.BUILTIN)),
        "own": data.composed_photos(OWN_TEXTS, test_x, test_y, OWN_SEED),
    }
    # The images that the composed pages are written with.
    sources = {"composed": data.builtin_nist36("test")[0], "own": test_x}
    if args.photos:
        page_sets = {
            "course": data.load_photos(data.Source("course", args.photos)),
            **page_sets,
        }
    if shutil.which("tesseract"):
        version = subprocess.run(
            ["tesseract", "--version"], capture_output=True, text=True
        ).stdout.split("\n")[0]
        print(f"\n{version}, for comparison:")
        for name, photos in page_sets.items():
            scores, per_page = tesseract_pages(photos)
            print_scores(name, scores)
            print(f"{'':13}{per_page:.2f} s per page")
    recipes = {
        "Q3.1": models.NIST36_RECIPE,
        "reader": models.READER_RECIPE,
        "CNN": models.CNN_RECIPE,
    }
    for network, recipe in recipes.items():
        print(f"\n{network}: {recipe}")
        for seed in args.seeds:
            start = time.perf_counter()
            with threadpool_limits(limits=1):  # as models trains the book's networks
                params, _ = train.train_classifier(
                    train_x, train_y, valid, replace(recipe, seed=seed)
                )
            seconds = time.perf_counter() - start
            acc = train.evaluate_classifier(params, test_x, test_y)[1]
            print(
                f"  seed {seed}: test accuracy {100 * acc:.1f} %, trained in {seconds:.1f} s"
            )
            for name, photos in page_sets.items():
                scores, per_page, read = read_pages(params, style, photos)
                print_scores(name, scores)
                print(f"{'':13}{per_page:.2f} s per page")
                if name in sources:
                    print_error_sources(params, photos, read, sources[name])
    print(
        "\n(L! = wrong number of lines, S! = words of the wrong lengths on some line)"
    )
    seconds, megabytes, code = large_photo()
    print(
        f"blank 9000x7000 photo: python -m hwlib read took {seconds:.1f} s, "
        f"peak memory {megabytes:.0f} MB, exit code {code}"
    )


if __name__ == "__main__":
    main()
