# The README's commands. Everything runs in .venv, created on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
READY := $(VENV)/.installed
# Reproducible runs: fixed BLAS threads, no progress bars in stored outputs.
RUN_ENV := OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 MKL_NUM_THREADS=2 HW5_PROGRESS=0
NOTEBOOKS := $(sort $(wildcard notebooks/*.ipynb))

.PHONY: book test lab pdf data notebooks bench lint clean

$(READY): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

## make book: execute every notebook and build the HTML book in _build/html
book: $(READY)
	$(RUN_ENV) $(VENV)/bin/jupyter-book build . --all --builder html -W -n --keep-going

## make test: unit tests, real-data tests (when HW5_REAL_DATA is set) and nbval over every notebook
test: $(READY)
	$(RUN_ENV) HW5_DATA=builtin $(PY) -m pytest --nbval --nbval-sanitize-with tests/nbval_sanitize.cfg -p no:cacheprovider

## make lab: open the notebooks in JupyterLab; the kernel is .venv's Python, with hwlib
## (LAB_ARGS passes options to JupyterLab, for example LAB_ARGS=--no-browser; as root, it
## adds --allow-root, which JupyterLab asks for)
lab: $(READY)
	cd notebooks && exec ../$(VENV)/bin/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS)

## make pdf: the whole book as one PDF, _build/pdf/book.pdf (needs xelatex)
pdf: $(READY)
	@command -v xelatex >/dev/null || { echo "make pdf needs xelatex. Debian/Ubuntu: sudo apt-get install texlive-xetex latexmk texlive-latex-extra texlive-fonts-recommended tex-gyre fonts-freefont-otf xindy. macOS: brew install --cask mactex"; exit 1; }
	$(RUN_ENV) $(VENV)/bin/jupyter-book build . --all --builder pdflatex -W -n --keep-going
	mkdir -p _build/pdf && cp _build/latex/book.pdf _build/pdf/book.pdf
	if [ -d _build/html ]; then cp _build/pdf/book.pdf _build/html/book.pdf; fi
	@echo "PDF: _build/pdf/book.pdf"

## make data: download the course files into data/ (needs internet)
data: $(READY)
	$(PY) -m hwlib fetch

## make notebooks: re-execute the notebooks in place on the built-in data (the stored outputs);
## printed lines are merged into one output per cell, however the kernel flushed them
notebooks: $(READY)
	cd notebooks && for nb in $(notdir $(NOTEBOOKS)); do \
	  $(RUN_ENV) HW5_DATA=builtin ../$(PY) -m jupyter nbconvert --to notebook --execute --inplace \
	    --ExecutePreprocessor.timeout=600 --ExecutePreprocessor.record_timing=False \
	    --NotebookExporter.preprocessors=nbconvert.preprocessors.CoalesceStreamsPreprocessor $$nb || exit 1; done

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

clean:
	rm -rf _build
