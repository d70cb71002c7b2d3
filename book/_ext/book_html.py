"""What the book needs beyond its configuration, where no standard setting exists: the
execution cache per data source and hwlib version, notebooks executed in parallel,
buttons for the repository a build is for, the prose's {eval} values read from the
executed notebooks, no script included twice (the browser would
log an error), and what the "Try the networks" page runs in the HTML book: the networks
that `make train` trained, and a script and style on that page alone."""

import json
import logging
import os
from pathlib import Path

from myst_nb.ext.glue.roles import PasteTextRole


def _set_repository(app, config):
    """HW5_REPOSITORY_URL, when set, replaces the repository url of _config.yml: the
    repository, Colab and Binder buttons then open that repository (a fork, say)."""
    url = os.environ.get("HW5_REPOSITORY_URL", "").strip().rstrip("/")
    if url:
        config.html_theme_options["repository_url"] = url


def _use_execution_cache(app, config):
    """Notebook outputs are cached in _build/.jupyter_cache/KEY, KEY a hash of the data
    source, its files and hwlib (see hwlib.book.execution_key). The cache itself keys
    each notebook by its code; a new KEY starts an empty cache, so no change of data or
    hwlib is served stale outputs."""
    from hwlib import book

    folder = Path(app.outdir).parent / ".jupyter_cache" / book.execution_key()
    config.nb_execution_cache_path = str(folder)


def _execute_in_parallel(app):
    """Execute the notebooks whose outputs are not cached before Sphinx reads them, one
    per core at once, with jupyter-cache's parallel executor: myst-nb then finds them in
    the cache. A notebook that fails here is executed again by myst-nb, which reports
    the error as usual."""
    from jupyter_cache import get_cache
    from jupyter_cache.executors import load_executor

    config = app.env.mystnb_config
    if config.execution_mode != "cache":
        return
    cache = get_cache(config.execution_cache_path)
    for path in sorted((Path(app.srcdir) / "notebooks").glob("*.ipynb")):
        cache.add_nb_to_project(str(path))
    outdated = cache.list_unexecuted()
    if outdated:
        logger = logging.getLogger(__name__)
        logger.setLevel(logging.WARNING)  # the pool's own messages too
        print(f"executing {len(outdated)} notebooks, {os.cpu_count()} at a time")
        executor = load_executor("local-parallel", cache, logger=logger)
        executor.run_and_cache(timeout=config.execution_timeout)


TRY_PAGE = "book/try"  # the drawing page: its script and data are for HTML only
TRY_DATA = "try-networks-weights.js"


def _export_networks(app, exception):
    """Write the networks and crop style for the drawing page, from the cache that
    `make train` filled; never trains (see hwlib.book.browser_networks)."""
    if exception is None and app.builder.format == "html":
        from hwlib import book

        script = "window.TRY_NETWORKS_DATA = " + json.dumps(book.browser_networks())
        (Path(app.outdir) / "_static" / TRY_DATA).write_text(script + ";\n")


def _fix_page_context(app, pagename, templatename, context, doctree):
    """sphinx-thebe can register its inline configuration twice, which the browser rejects
    ("THEBE_JS_URL has already been declared"): keep the first copy of every script."""
    seen, unique = set(), []
    for script in context.get("script_files", []):
        # Inline scripts come with filename None or "": the same script either way.
        key = (
            getattr(script, "filename", script) or "",
            tuple(sorted(getattr(script, "attributes", {}).items())),
        )
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def _add_try_scripts(app, pagename, templatename, context, doctree):
    """The drawing page's data, script and style, on that page only."""
    if pagename == TRY_PAGE:
        app.add_js_file(TRY_DATA)
        app.add_js_file("try-networks.js")
        app.add_css_file("try-networks.css")


def setup(app):
    # {eval}`name` quotes the value that the notebook's variable name took, as
    # `%load_ext hwlib.book` glued it while the notebook ran: {glue:text}'s role.
    # myst-nb's own {eval} asks a live kernel, which only its inline execution keeps,
    # and that mode has no execution cache.
    app.add_role("eval", PasteTextRole(), override=True)  # replaces myst-nb's
    app.connect("config-inited", _set_repository)
    app.connect("config-inited", _use_execution_cache)
    app.connect("builder-inited", _execute_in_parallel, priority=600)  # after myst-nb's
    app.connect("html-page-context", _add_try_scripts)
    app.connect(
        "html-page-context", _fix_page_context, priority=900
    )  # after the others
    app.connect("build-finished", _export_networks)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
