# Installed by make into .venv/etc/ipython, where IPython reads it. The notebooks'
# kernels (book builds, tests, JupyterLab) then log only errors of their own start-up,
# not one transport warning per notebook; warnings and errors of cells are unaffected.
c = get_config()  # noqa: F821
c.IPKernelApp.log_level = "ERROR"
