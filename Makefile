# Everything sets itself up: a venv in .venv and the real Helm/kubectl builds in .cache/bin.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
BIN    := .cache/bin
export HELM3   ?= $(CURDIR)/$(BIN)/v31/helm
export HELM4   ?= $(CURDIR)/$(BIN)/v35/helm
export KUBECTL ?= $(CURDIR)/$(BIN)/v35/kubectl

.PHONY: all setup compile tools test demo bench clean

all: test

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

# Byte-compile up front: start-up matters to a post-renderer, and an editable install under
# PYTHONDONTWRITEBYTECODE would otherwise recompile every module on every run.
compile: setup
	@$(PY) -m compileall -q postrender

setup: $(VENV)/.installed

$(BIN)/v35/helm $(BIN)/v31/helm:
	$(PYTHON) tools/fetch_binaries.py $(BIN)

tools: $(BIN)/v35/helm $(BIN)/v31/helm

test: setup tools compile
	$(PY) -m pytest -q

demo: setup compile
	$(PY) tools/demo.py

bench: setup tools compile
	$(PY) bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .cache .pytest_cache .hypothesis
