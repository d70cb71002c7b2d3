"""Trained networks, cached as .npz files keyed by their data and recipe.

Any notebook can ask for the Q3.1 network: it is trained once per data source and
recipe, saved, and loaded by every later caller (Q3, Q5, the tests) in any order.
"""

import hashlib
import json
import os
import zipfile
from pathlib import Path

import numpy as np

from . import data, nn, train

# The tuned Q3.1 recipe (see the Q3 notebook for why each choice).
NIST36_RECIPE = dict(
    hidden=64,
    epochs=50,
    batch_size=64,
    lr=0.005,
    momentum=0.5,
    anneal=True,
    shift=1,
    seed=0,
)
# The reading network beyond the handout: two sigmoid layers, shifts of up to 2 pixels,
# four distorted copies of the training set, the paper at 0, batches of 128, 120 epochs
# at rate 0.0075 (see Q3).
READER_RECIPE = dict(
    NIST36_RECIPE,
    hidden=[256, 128],
    epochs=120,
    batch_size=128,
    lr=0.0075,
    shift=2,
    copies=4,
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


def show_progress():
    """Progress bars are for people: off when HW5_PROGRESS=0 (tests, book builds)."""
    return os.environ.get("HW5_PROGRESS", "1") != "0"


def fingerprint(*arrays, **settings):
    """A short hash of the arrays' contents, the settings, and the training code."""
    h = hashlib.sha256(json.dumps(settings, sort_keys=True).encode())
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    for module in (nn, train):
        h.update(Path(module.__file__).read_bytes())
    return h.hexdigest()[:16]


def cache_file(kind, key):
    """Where a trained network of this kind and key is saved."""
    return data.CACHE_DIR / f"{kind}-{key}.npz"


def cached(kind, key, build):
    """Load data.CACHE_DIR/kind-key.npz if it exists; else build() a dict of arrays,
    save it there and return it."""
    path = cache_file(kind, key)
    try:
        with np.load(path, allow_pickle=False) as f:
            return {k: f[k] for k in f.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):
        pass  # missing or damaged: build it again
    arrays = build()
    data.save_npz(path, arrays)
    return arrays


def nist36_classifier(source=None, **changes):
    """(params, history) of the Q3.1 network trained on the source's train split.

    changes override entries of the recipe: lr for the Q3.3 sweep, or the choices of
    the reading network. Training prints nothing, so that a cached and a freshly
    trained network give the same output. The network is saved in
    nist36_file(source, **changes).
    """
    recipe = dict(NIST36_RECIPE, **changes)
    x, y = data.load_nist36("train", source)
    valid = data.load_nist36("valid", source)

    def build():
        params, history = train.train_classifier(
            x, y, valid, log_every=0, progress=show_progress(), **recipe
        )
        return {
            **{k: v for k, v in params.items() if k[0] in "Wb"},
            **{"history_" + k: np.array(v) for k, v in history.items()},
        }

    arrays = cached("nist36", fingerprint(x, y, *valid, **recipe), build)
    params = {k: v for k, v in arrays.items() if not k.startswith("history_")}
    history = {
        k[len("history_") :]: v for k, v in arrays.items() if k.startswith("history_")
    }
    return params, history


def nist36_file(source=None, **changes):
    """The .npz file of the network that nist36_classifier(source, **changes) gives."""
    x, y = data.load_nist36("train", source)
    valid = data.load_nist36("valid", source)
    return cache_file(
        "nist36", fingerprint(x, y, *valid, **dict(NIST36_RECIPE, **changes))
    )


def reader_classifier(source=None):
    """(params, history) of the reading network of Q3's "Beyond the handout" section:
    READER_RECIPE, trained and cached like the Q3.1 network. text.read_text takes it."""
    return nist36_classifier(source, **READER_RECIPE)


def autoencoder(source=None):
    """(params, losses) of the Q4 autoencoder trained on the source's train split."""
    x, _ = data.load_nist36("train", source)

    def build():
        params, losses = train.train_autoencoder(
            x, log_every=0, progress=show_progress(), **AUTOENCODER_RECIPE
        )
        return {
            **{k: v for k, v in params.items() if k[0] in "Wb"},
            "losses": np.array(losses),
        }

    arrays = cached("autoencoder", fingerprint(x, **AUTOENCODER_RECIPE), build)
    return {k: v for k, v in arrays.items() if k != "losses"}, arrays["losses"]
