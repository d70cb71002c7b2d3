"""Helpers for the book: the notebooks' presentation, and the networks that the
"Try the networks" page runs in the browser."""

import base64
import hashlib
import inspect
import re
from pathlib import Path

import numpy as np
from IPython.display import Code

from . import conv, data, models, text, train


def show_source(*objects):
    """The source code of functions or classes, highlighted: the book shows what
    runs."""
    return Code("\n\n".join(inspect.getsource(o) for o in objects), language="python")


class Plain(str):
    """Text that displays without quotes: a value that the prose quotes, as
    {eval}`name` for name = Plain(f"{x:.1f}") (see load_ipython_extension)."""

    def _repr_pretty_(self, printer, cycle):
        printer.text(str(self))


# {eval}`name` in a notebook's Markdown: the prose quotes the value of variable name.
PROSE_VALUE = re.compile(r"\{eval\}`([^`]*)`")
GLUED_TEXT = "application/papermill.record/text/plain"  # how myst_nb.glue stores text
_hooks = {}  # the hook that load_ipython_extension registered, by shell


def load_ipython_extension(ipython):
    """`%load_ext hwlib.book`: after each cell, glue (myst_nb.glue) under its name each
    Plain value of the notebook's variables that differs from the one last glued under
    that name. The book's {eval} role reads these records; JupyterLab's MyST renderer
    asks the kernel for the variable itself."""
    last_glued = {}

    def glue_plain_values(result):
        from myst_nb import glue

        for name, value in list(ipython.user_ns.items()):
            if isinstance(value, Plain) and not name.startswith("_"):
                if last_glued.get(name) != value:
                    last_glued[name] = value
                    glue(name, value, display=False)

    ipython.events.register("post_run_cell", glue_plain_values)
    _hooks[ipython] = glue_plain_values


def unload_ipython_extension(ipython):
    """`%unload_ext hwlib.book` (and `%reload_ext`, before it loads again): stop."""
    hook = _hooks.pop(ipython, None)
    if hook is not None:
        ipython.events.unregister("post_run_cell", hook)


def glued_values(nb):
    """{name: text} of the values that an executed notebook (nbformat) glued."""
    return {
        out.metadata["scrapbook"]["name"]: out.data[GLUED_TEXT]
        for cell in nb.cells
        for out in cell.get("outputs", [])
        if "scrapbook" in out.get("metadata", {})
    }


def execution_key(source=None):
    """A short hash of everything a notebook's outputs depend on besides its code: the
    data source, the contents of the files hwlib reads from it, and hwlib's files."""
    source = source or data.data_source()
    h = hashlib.sha256(repr(source).encode())
    package = Path(__file__).parent
    for path in sorted(package.glob("*.py")) + data.source_files(source):
        h.update(path.name.encode())
        h.update(data.sha256(path).encode())
    return h.hexdigest()[:16]


def browser_networks(source=None):
    """The convolutional, reading and Q3.1 networks of the source, as `make train`
    cached them (never trained here), and Q5's crop style, as JSON-ready data for the
    drawing page: each layer's W and b as base64 float32 (dense W: in x out, a
    convolution's: k x k x in x out, both row-major), and default, the network that
    reads unless told otherwise."""

    def encode(a):
        return base64.b64encode(np.asarray(a, "<f4").tobytes()).decode("ascii")

    test = data.load_nist36("test", source)
    networks = {}
    for name, classifier in models.READERS.items():
        params, _ = classifier(source, allow_training=False)
        convs = [f"conv{i}" for i in conv.stages(params)]
        names = train.hidden_layers(params) + ["output"]
        dense = "-".join(str(params["W" + n].shape[1]) for n in names)
        filters = " and ".join(str(params["W" + n].shape[3]) for n in convs)
        networks[name] = {
            "title": models.READER_TITLES[name],
            "shape": (
                f"convolutions of {filters} filters, then {dense}"
                if convs
                else f"{params['Wlayer1'].shape[0]}-{dense}"
            ),
            "test_accuracy": float(train.evaluate_classifier(params, *test)[1]),
            "convolutions": [
                {
                    "size": params["W" + n].shape[0],
                    "channels": params["W" + n].shape[2],
                    "filters": params["W" + n].shape[3],
                    "W": encode(params["W" + n]),
                    "b": encode(params["b" + n]),
                }
                for n in convs
            ],
            # The dense layers' activation before the output (see classifier_probs).
            "activation": "relu" if convs else "sigmoid",
            "layers": [
                {
                    "rows": params["W" + n].shape[0],
                    "cols": params["W" + n].shape[1],
                    "W": encode(params["W" + n]),
                    "b": encode(params["b" + n]),
                }
                for n in names
            ],
        }
    style = text.CropStyle.default(source)
    return {
        "classes": data.CLASSES,
        "style": vars(style),
        "networks": networks,
        "default": models.DEFAULT_READER,
    }
