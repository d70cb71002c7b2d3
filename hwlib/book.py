"""Helpers for the notebooks' presentation."""

import inspect

from IPython.display import Code


def show_source(*objects):
    """The source code of functions or classes, highlighted: the book shows what
    runs."""
    return Code("\n\n".join(inspect.getsource(o) for o in objects), language="python")


class Plain(str):
    """Text that displays without quotes, for myst_nb.glue:
    glue("key", Plain(f"{x:.1f}"))."""

    def _repr_pretty_(self, printer, cycle):
        printer.text(str(self))
