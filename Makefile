# Set-up and main tasks. `make run` and `make test` work on a fresh machine.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install run test test-slow bench

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

bench: install
	$(PY) -m evaluation.bench_ingest
