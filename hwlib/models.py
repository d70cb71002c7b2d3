"""Trained networks, cached as .npz files keyed by their data, recipe, code and BLAS
kernels.

Every network that the notebooks use is listed by book_networks(). `python -m hwlib
train` (train_all) trains the missing ones in parallel processes before the book is
built, so the notebooks only load them. A notebook run on its own still trains a
missing network in its cell, with a progress bar, unless HW5_TRAIN=0 (book builds and
tests) forbids it: then the cell stops with a DataError that says what to run.
"""

import hashlib
import json
import multiprocessing
import os
import queue
import zipfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, is_dataclass, replace
from functools import lru_cache
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

from . import conv, data, nn, train

# The tuned Q3.1 recipe (see the Q3 notebook for why each choice).
NIST36_RECIPE = train.Recipe(
    hidden=64,
    epochs=50,
    batch_size=64,
    lr=0.005,
    momentum=0.5,
    reshuffle=True,
    anneal=True,
    shift=1,
)
# The reading network beyond the handout: two sigmoid layers, shifts of up to 2 pixels,
# four distorted copies of the training set, the paper at 0, batches of 128, 120 epochs
# at rate 0.0075 (see Q3).
READER_RECIPE = replace(
    NIST36_RECIPE,
    hidden=(256, 128),
    epochs=120,
    batch_size=128,
    lr=0.0075,
    shift=2,
    copies=4,
    paper_at_zero=True,
)
# The convolutional network beyond the handout (see hwlib.conv and Q3): two stages of a
# 5x5 convolution (16 and 32 filters) and 2x2 max pooling, a dense layer, relu
# throughout, trained with momentum on the reading network's images (four distorted
# copies, shifts of up to 2 pixels, the paper at 0), each copied image binarized with a
# chance of 0.5 (train.binarize).
CNN_RECIPE = replace(
    NIST36_RECIPE,
    hidden=128,
    conv=(16, 32),
    epochs=8,
    batch_size=32,
    lr=0.001,
    momentum=0.9,
    shift=2,
    copies=4,
    binarized=0.5,
    paper_at_zero=True,
)
AUTOENCODER_RECIPE = dict(
    hidden=32,
    epochs=100,
    batch_size=36,
    lr=3e-5,
    momentum=0.9,
    decay=0.9,
    decay_every=20,
    seed=0,
)


# Q3.1's tuning sweep (3 batch sizes x 3 rates) and Q3.3's rates, as factors of the
# recipe's.
SWEEP_BATCH_SIZES = (32, 64, 128)
SWEEP_RATES = (0.002, 0.005, 0.01)
RATE_FACTORS = (10, 1, 0.1)
# Q3's ladder towards the reading network: each step adds one change to the one before,
# all on a short schedule of LADDER_EPOCHS epochs; the reading network itself is the
# last step's recipe trained for READER_RECIPE's epochs.
LADDER_EPOCHS = 20
LADDER = (
    ("Q3.1: 64 units, batches of 64", {}),
    ("+ batches of 128", {"batch_size": 128}),
    ("+ 256 units", {"hidden": 256}),
    ("+ a second layer of 128 units", {"hidden": (256, 128)}),
    ("+ shifts of up to 2 pixels", {"shift": 2}),
    ("+ 4 distorted copies of the training set", {"copies": 4}),
    ("+ the paper at 0 (inputs x - 1)", {"paper_at_zero": True}),
    ("+ rate 0.0075", {"lr": 0.0075}),
)


def ladder_recipes():
    """The recipe of each LADDER step: NIST36_RECIPE with the changes so far."""
    recipe, steps = replace(NIST36_RECIPE, epochs=LADDER_EPOCHS), []
    for _, change in LADDER:
        recipe = replace(recipe, **change)
        steps.append(recipe)
    return steps


def sweep_recipe(batch_size, lr):
    """The Q3.1 recipe with another batch size and rate, as Q3.1's sweep trains it."""
    return replace(NIST36_RECIPE, batch_size=batch_size, lr=lr)


def book_networks():
    """Every network that the notebooks load, as (name, kind, recipe), the longest to
    train first."""
    lr = NIST36_RECIPE.lr
    return [
        ("convolutional network", "nist36", CNN_RECIPE),
        ("reading network", "nist36", READER_RECIPE),
        ("Q4 autoencoder", "autoencoder", AUTOENCODER_RECIPE),
        *[
            (f"ladder step {i + 1}", "nist36", recipe)
            for i, recipe in reversed(list(enumerate(ladder_recipes())))
        ],
        ("Q3.1", "nist36", NIST36_RECIPE),
        *[
            (f"sweep: batch {b}, lr {r}", "nist36", sweep_recipe(b, r))
            for b in SWEEP_BATCH_SIZES
            for r in SWEEP_RATES
        ],
        *[
            (f"Q3.3: lr {f * lr:g}", "nist36", replace(NIST36_RECIPE, lr=f * lr))
            for f in RATE_FACTORS
        ],
    ]


def show_progress():
    """Progress bars are for people: off when HW5_PROGRESS=0 (stored outputs)."""
    return os.environ.get("HW5_PROGRESS", "1") != "0"


def training_allowed():
    """False when HW5_TRAIN=0: book builds and tests load networks, never train them."""
    return os.environ.get("HW5_TRAIN", "1") != "0"


@lru_cache(maxsize=8)
def _data_digest(source, splits):
    """A hash of the source's splits' arrays, computed once per source."""
    h = hashlib.sha256()
    for split in splits:
        for a in data.load_nist36(split, source):
            h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


@lru_cache(maxsize=1)
def blas_kernels():
    """The kernels of NumPy's OpenBLAS, by OpenBLAS's name ('Haswell', say; '' where
    unknown). Networks trained with other kernels differ (see hwlib's docstring)."""
    for info in threadpool_info():
        if info["user_api"] == "blas" and "numpy" in info.get("filepath", ""):
            return info.get("architecture") or ""
    return ""


def fingerprint(source, splits, **settings):
    """A short hash of the data's splits, the settings, the training code and the BLAS
    kernels."""
    h = hashlib.sha256(_data_digest(source, splits).encode())
    h.update(json.dumps(settings, sort_keys=True).encode())
    h.update(blas_kernels().encode())
    for module in (nn, conv, train):
        h.update(Path(module.__file__).read_bytes())
    return h.hexdigest()[:16]


def network_file(kind, source=None, recipe=None):
    """The .npz file in which the network of this kind ('nist36' or 'autoencoder') and
    recipe (default: NIST36_RECIPE, AUTOENCODER_RECIPE) is cached."""
    source = source or data.data_source()
    if kind == "nist36":
        splits, recipe = ("train", "valid"), recipe or NIST36_RECIPE
    elif kind == "autoencoder":
        splits, recipe = ("train",), recipe or AUTOENCODER_RECIPE
    else:
        raise ValueError(f"kind must be 'nist36' or 'autoencoder', not {kind!r}")
    settings = asdict(recipe) if is_dataclass(recipe) else recipe
    return data.cache_dir() / f"{kind}-{fingerprint(source, splits, **settings)}.npz"


def cached(path, build, allow_training=None):
    """Load the arrays saved in path if it exists; else build() a dict of arrays, save
    it there and return it. allow_training=False (or None with HW5_TRAIN=0) gives a
    DataError instead of building."""
    try:
        with np.load(path, allow_pickle=False) as f:
            return {k: f[k] for k in f.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):
        pass  # missing or damaged: build it again
    if not (training_allowed() if allow_training is None else allow_training):
        raise data.DataError(
            f"{path.name} is not trained yet, and HW5_TRAIN=0 forbids training here: "
            "run 'python -m hwlib train' first"
        )
    # One BLAS thread: the same network whatever the machine's thread settings (the
    # threads split the sums differently), and no collapse when other work shares the
    # cores (see the README's timings).
    with threadpool_limits(limits=1):
        arrays = build()
    data.save_npz(path, arrays)
    return arrays


def _bar(desc):
    """A progress bar over the epochs, or None when bars are off."""
    if not show_progress():
        return None
    from tqdm.auto import tqdm

    return lambda epochs: tqdm(epochs, desc=desc, leave=False)


def nist36_classifier(
    source=None, recipe=NIST36_RECIPE, progress=None, allow_training=None
):
    """(params, history) of the network trained by recipe on the source's train split.

    Training prints nothing, so that a cached and a freshly trained network give the
    same output; progress wraps the epochs (default: a bar, see show_progress). The
    network is saved in network_file("nist36", source, recipe).
    """
    source = source or data.data_source()

    def build():
        x, y = data.load_nist36("train", source)
        valid = data.load_nist36("valid", source)
        params, history = train.train_classifier(
            x, y, valid, recipe, progress=progress or _bar("epochs")
        )
        return {
            **{k: v for k, v in params.items() if k[0] in "Wb"},
            **{"history_" + k: np.array(v) for k, v in history.items()},
        }

    path = network_file("nist36", source, recipe)
    arrays = cached(path, build, allow_training)
    params = {k: v for k, v in arrays.items() if not k.startswith("history_")}
    history = {
        k[len("history_") :]: v for k, v in arrays.items() if k.startswith("history_")
    }
    return params, history


def reader_classifier(source=None, allow_training=None):
    """(params, history) of the reading network of Q3's "Beyond the handout" section:
    READER_RECIPE, trained and cached like the Q3.1 network. text.read_text takes it."""
    return nist36_classifier(source, READER_RECIPE, allow_training=allow_training)


def cnn_classifier(source=None, allow_training=None):
    """(params, history) of Q3's convolutional network (hwlib.conv): CNN_RECIPE,
    trained and cached like the Q3.1 network."""
    return nist36_classifier(source, CNN_RECIPE, allow_training=allow_training)


# The classifiers that read photos, by the names of the command line and drawing page,
# and their titles there.
READERS = {
    "cnn": cnn_classifier,
    "reader": reader_classifier,
    "q3.1": nist36_classifier,
}
READER_TITLES = {
    "cnn": "convolutional network",
    "reader": "reading network",
    "q3.1": "Q3.1 network",
}
# The one that reads unless told otherwise: over training seeds 0-4, the convolutional
# network's mean and worst seed are higher than the reading network's on the test split,
# the course photos and the composed pages (see the README).
DEFAULT_READER = "cnn"


def autoencoder(source=None, progress=None, allow_training=None):
    """(params, losses) of the Q4 autoencoder trained on the source's train split."""
    source = source or data.data_source()

    def build():
        x, _ = data.load_nist36("train", source)
        params, losses = train.train_autoencoder(
            x, log_every=0, progress=progress or _bar("epochs"), **AUTOENCODER_RECIPE
        )
        return {
            **{k: v for k, v in params.items() if k[0] in "Wb"},
            "losses": np.array(losses),
        }

    arrays = cached(network_file("autoencoder", source), build, allow_training)
    return {k: v for k, v in arrays.items() if k != "losses"}, arrays["losses"]


def train_all(source=None, workers=None):
    """Train every network of book_networks() that is not cached yet, in parallel
    processes (one per core, each with one BLAS thread), one progress bar per network;
    returns how many were trained."""
    source = source or data.data_source()
    jobs, files = [], set()
    for name, kind, recipe in book_networks():
        path = network_file(kind, source, recipe)
        if path not in files and not path.is_file():
            jobs.append((name, kind, recipe))
        files.add(path)
    print(
        f"{len(files) - len(jobs)} of {len(files)} networks are in {data.cache_dir()}"
    )
    if not jobs:
        return 0
    workers = max(1, min(workers or os.cpu_count() or 1, len(jobs)))
    print(f"training {len(jobs)} in {workers} processes", flush=True)
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager:
        reports = manager.Queue()
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            futures = [
                pool.submit(_train_job, kind, recipe, source, reports, i)
                for i, (_, kind, recipe) in enumerate(jobs)
            ]
            _follow_reports(jobs, futures, reports)
    return len(jobs)


def _train_job(kind, recipe, source, reports, job):
    """In a worker: train one network into the cache, reporting each epoch."""

    def progress(epochs):
        reports.put((job, "start", len(epochs)))
        for epoch in epochs:
            yield epoch
            reports.put((job, "epoch", 1))

    if kind == "nist36":
        nist36_classifier(source, recipe, progress, allow_training=True)
    else:
        autoencoder(source, progress, allow_training=True)


def _follow_reports(jobs, futures, reports):
    """One bar per network, fed by the workers' reports, until every job is done."""
    from tqdm.auto import tqdm

    bars = {}
    while True:
        try:
            job, what, n = reports.get(timeout=0.2)
        except queue.Empty:
            if all(f.done() for f in futures):
                break
            continue
        if what == "start":
            bars[job] = tqdm(total=n, desc=jobs[job][0], unit="epoch", mininterval=1)
        else:
            bars[job].update(n)
            if bars[job].n == bars[job].total:
                bars[job].close()
    for bar in bars.values():
        bar.close()
    for f in futures:
        f.result()  # a worker's error, raised here
