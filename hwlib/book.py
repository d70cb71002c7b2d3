"""Helpers for the notebooks' presentation."""
import inspect

from IPython.display import Code


def show_source(*objects):
    """The source code of functions or classes, highlighted: what the book shows is what runs."""
    return Code("\n\n".join(inspect.getsource(o) for o in objects), language="python")
