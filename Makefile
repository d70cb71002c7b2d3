# The README's commands. Everything runs in .venv, created on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
READY := $(VENV)/.installed
# Notebooks run with one BLAS thread (two collapse when other work shares the cores; see
# the README), without progress bars in stored outputs, and load the networks that
# `make train` trained: HW5_TRAIN=0 stops a cell that would train.
RUN_ENV := OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 HW5_PROGRESS=0 HW5_TRAIN=0
NOTEBOOKS := $(sort $(wildcard notebooks/*.ipynb))
# The book is built in $(OUT)/_build (tests build elsewhere, leaving yours alone).
OUT ?= .
BOOK := $(VENV)/bin/jupyter-book build . --path-output $(OUT) --all -W -n --keep-going

.PHONY: book train test check lab pdf data notebooks bench lint lock repository clean

# The exact versions of requirements.lock, generated from requirements.txt by make lock.
# uv, at the lock's version, installs them: it takes seconds where pip takes a minute.
# The lock file lists every dependency, so none need be resolved (--no-deps; pip check
# confirms that nothing is missing). uv links the files from its cache as it does by
# default (hard links on Linux): a few seconds, where copying the gigabyte took 12 s or
# more. The bytecode is compiled afterwards on every core, and once: where
# PYTHONDONTWRITEBYTECODE is set, Python would otherwise compile every module again in
# every process. The packages' own test suites are left out.
$(READY): requirements.lock pyproject.toml book/ipython_kernel_config.py
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet "$$(grep '^uv==' requirements.lock)"
	$(VENV)/bin/uv pip install --quiet --python $(PY) --no-deps \
	  -r requirements.lock
	$(PY) -m pip check
	$(PY) -m compileall -q -j 0 -x '/tests?/' $(VENV)/lib
	mkdir -p $(VENV)/etc/ipython && cp book/ipython_kernel_config.py $(VENV)/etc/ipython/
	touch $@

## make train: train every network that the notebooks use and is not cached yet, in
## parallel, one progress bar per network
train: $(READY)
	$(PY) -m hwlib train

## make book: train, then execute the notebooks and build the HTML book in _build/html;
## the notebooks' outputs are cached per data source and hwlib version (_build/.jupyter_cache)
book: train
	$(RUN_ENV) $(BOOK) --builder html

## make test: unit tests, real-data tests (when HW5_REAL_DATA is set), the builds, and nbval
## over every notebook, with networks trained once into a temporary folder (HW5_TEST_CACHE
## names a folder to keep them in instead); one pytest worker per core, each notebook's
## cells and each test module on one worker (--dist loadscope), in the order of the files,
## so that the book's long build starts first
test: $(READY)
	cache=$${HW5_TEST_CACHE:-$$(mktemp -d)}; \
	HW5_CACHE=$$cache HW5_DATA=builtin $(PY) -m hwlib train && \
	$(RUN_ENV) HW5_CACHE=$$cache HW5_DATA=builtin $(PY) -m pytest -rs --durations=10 \
	  -n auto --dist loadscope --no-loadscope-reorder --nbval \
	  --nbval-sanitize-with tests/nbval_sanitize.cfg -p no:cacheprovider; \
	status=$$?; [ -n "$$HW5_TEST_CACHE" ] || rm -rf "$$cache"; exit $$status

## make check: the quick tests, which need no trained network, browser or TeX (about a minute)
check: $(READY)
	cache=$$(mktemp -d); $(RUN_ENV) HW5_CACHE=$$cache HW5_DATA=builtin $(PY) -m pytest -rs \
	  -m "not full" -p no:cacheprovider tests; status=$$?; rm -rf "$$cache"; exit $$status

## make lab: open the notebooks in JupyterLab; the kernel is .venv's Python, with hwlib
## (LAB_ARGS passes options to JupyterLab, for example LAB_ARGS=--no-browser; as root, it
## adds --allow-root, which JupyterLab asks for)
lab: $(READY)
	cd notebooks && exec ../$(VENV)/bin/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS)

## make pdf: the whole book as one PDF, _build/pdf/book.pdf (needs xelatex)
pdf: train
	@command -v xelatex >/dev/null || { echo "make pdf needs xelatex. Debian/Ubuntu: sudo apt-get install texlive-xetex latexmk texlive-latex-extra texlive-fonts-recommended tex-gyre fonts-freefont-otf xindy. macOS: brew install --cask mactex"; exit 1; }
	$(RUN_ENV) $(BOOK) --builder pdflatex
	mkdir -p $(OUT)/_build/pdf && cp $(OUT)/_build/latex/book.pdf $(OUT)/_build/pdf/book.pdf
	if [ -d $(OUT)/_build/html ]; then cp $(OUT)/_build/pdf/book.pdf $(OUT)/_build/html/book.pdf; fi
	@echo "PDF: $(OUT)/_build/pdf/book.pdf"

## make repository URL=https://github.com/OWNER/NAME: name your fork in _config.yml and in
## the notebooks' Colab install cells, so that Colab installs the fork's hwlib
repository: $(READY)
	$(PY) book/set_repository.py "$(URL)"

## make data: download the course files into data/ (needs internet)
data: $(READY)
	$(PY) -m hwlib fetch

## make notebooks: re-execute the notebooks in place on the built-in data (the stored outputs),
## one per core at a time; printed lines are merged into one output per cell, however the
## kernel flushed them, and the values that the prose quotes are stored for JupyterLab
notebooks: $(READY)
	HW5_DATA=builtin $(PY) -m hwlib train
	cd notebooks && printf '%s\n' $(notdir $(NOTEBOOKS)) | xargs -P "$$(nproc)" -I NB \
	  env $(RUN_ENV) HW5_DATA=builtin ../$(PY) -m jupyter nbconvert --to notebook --execute \
	    --inplace --ExecutePreprocessor.timeout=600 --ExecutePreprocessor.record_timing=False \
	    --NotebookExporter.preprocessors=nbconvert.preprocessors.CoalesceStreamsPreprocessor NB
	$(PY) book/store_prose_values.py $(NOTEBOOKS)

## make bench: training speed, the handout's float64 code against hwlib (set HW5_DATA to choose the data;
## BENCH_ARGS replaces the default --repeat 3, for example BENCH_ARGS=q3)
bench: $(READY)
	$(RUN_ENV) $(PY) benchmarks/bench_training.py $(or $(BENCH_ARGS),--repeat 3)

## make lint: ruff's lint and format checks over hwlib, tests, benchmarks and notebooks,
## and the GitHub workflows against their schema
lint: $(READY)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml

## make lock: pin the newest versions that requirements.txt allows in requirements.lock
lock:
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet uv
	$(VENV)/bin/uv pip compile --quiet --upgrade --output-file requirements.lock \
	  requirements.txt

clean:
	rm -rf _build
