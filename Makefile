# Set-up and main tasks. `make run` and `make test` work on a fresh machine.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install run test test-slow lint bench

install: $(STAMP)

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# The local CPU build of torch first, so that no dependency pulls a multi-GB CUDA build.
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[dev,sentence-transformers]'
	touch $(STAMP)

run: install
	$(VENV)/bin/kb ingest corpus/ --prune
	$(VENV)/bin/kb serve

test: install
	$(VENV)/bin/pytest -q -m "not slow"

test-slow: install
	$(VENV)/bin/pytest -q -m slow

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

bench: install
	$(PY) -m evaluation.bench_ingest

# The generated reference pages: docs/cli.md (the kb command's help) and docs/configuration.md
# (the settings); tests/test_docs.py fails when they drift from the code.
.PHONY: docs
docs: install
	$(PY) docs/generate.py
