# Everything sets itself up: a venv in .venv and the real Helm/kubectl builds in .cache/bin.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
BIN    := .cache/bin
export HELM3   ?= $(CURDIR)/$(BIN)/v31/helm
export HELM4   ?= $(CURDIR)/$(BIN)/v35/helm
export KUBECTL ?= $(CURDIR)/$(BIN)/v35/kubectl
# `make plugin` signs the tarball when both are set: the key's name and a secret keyring file.
export HELM_SIGN_KEY HELM_KEYRING HELM_PASSPHRASE_FILE

.PHONY: all setup compile tools gpg plugin plugin-lock test demo bench clean

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

# gpg makes the throwaway signing key of the plugin tests (Debian: package gnupg).
gpg:
	@command -v gpg >/dev/null 2>&1 || { echo "installing gnupg (gpg signs the test plugin tarball)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gnupg >/dev/null; }

# The Helm 4 plugin release: dist/postrender-<version>.tgz (+ .prov with HELM_SIGN_KEY/HELM_KEYRING).
plugin: setup tools
	$(PY) tools/build_plugin.py

# After changing a version in requirements/plugin.lock: re-pin the hashes of every wheel.
plugin-lock: setup
	$(PY) tools/build_plugin.py --lock

test: setup tools gpg compile
	$(PY) -m pytest -q

demo: setup compile
	$(PY) tools/demo.py

bench: setup tools compile
	$(PY) bench/run.py $(BENCH_ARGS)
	$(PY) bench/run.py --shapes --runs 1
	$(PY) bench/plugin.py

clean:
	rm -rf $(VENV) .cache .pytest_cache .hypothesis build dist
