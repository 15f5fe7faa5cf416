# The README's two commands: `make demo` and `make test`. Both set the project up on first use
# (a virtual environment in .venv and the CDK CLI in node_modules); nothing is installed globally.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# checkov lives in a venv of its own: it pins boto3 and packaging below what moto and the CDK
# need. The tests run it on every synthesized template (tests/cdk/test_security_gate.py).
CHECKOV_VENV := .venv-checkov
CHECKOV_VERSION := 3.3.30
CHECKOV := $(CHECKOV_VENV)/bin/checkov
export SML_CHECKOV := $(CURDIR)/$(CHECKOV)
# jsii silences its end-of-life banner only for the node major version named here.
NODE_MAJOR := $(shell node -p 'process.versions.node.split(".")[0]' 2>/dev/null)
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := $(NODE_MAJOR)
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := $(NODE_MAJOR)
export JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION := 1
export CDK_DISABLE_CLI_TELEMETRY := true
export PATH := $(CURDIR)/node_modules/.bin:$(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: setup demo test lint typecheck unit synth bench clean

setup: $(STAMP) node_modules/.bin/cdk $(CHECKOV)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "serverless-ml needs Python >= 3.11 to run its tooling (set PYTHON=...)")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(CHECKOV): Makefile
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet 'checkov==$(CHECKOV_VERSION)'
	touch $@

node_modules/.bin/cdk: package.json
	npm install --no-audit --no-fund --loglevel=error
	touch $@

demo: setup
	$(PY) -m serverless_ml.cli demo

lint: setup
	$(VENV)/bin/ruff check src tests stacks
	$(VENV)/bin/ruff format --check src tests stacks
	$(VENV)/bin/mypy src stacks/cdk_app.py
	for program in stacks/pulumi-*/__main__.py; do $(VENV)/bin/mypy "$$program" || exit 1; done

test: setup lint
	$(VENV)/bin/pytest -n 2 --dist loadgroup -q

synth: setup
	cdk synth --quiet

bench: setup
	$(PY) -m serverless_ml.cli bench cold-start

clean:
	rm -rf cdk.out build .pytest_cache .mypy_cache .ruff_cache
