# Everything a newcomer needs: `make demo` and `make test` set up .venv and node_modules themselves.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
VENV_STAMP := $(VENV)/.installed
# uv (pinned in constraints.txt, installed into .venv by pip) installs both venvs' exact pins:
# the same packages as pip, in seconds rather than minutes.
UV := $(VENV)/bin/uv
NODE_STAMP := node_modules/.installed
# The AWS SDK for JavaScript v3 localbus gives Node.js handlers (localbus/runtimes/node).
LOCALBUS_NODE := localbus/runtimes/node
LOCALBUS_NODE_STAMP := $(LOCALBUS_NODE)/node_modules/.installed
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed
PYC_STAMP := $(VENV)/.compiled
STAGE ?= dev
# Extra `-c key=value` stage overrides for `make synth`, e.g. CDK_CONTEXT="-c opsEmail=ops@example.com"
CDK_CONTEXT ?=
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export AWS_EC2_METADATA_DISABLED := true

.PHONY: setup test lint format synth demo docs bench validators clean

setup: $(VENV_STAMP) $(PYC_STAMP) $(NODE_STAMP) $(LOCALBUS_NODE_STAMP) $(CHECKOV_STAMP)

$(VENV_STAMP): requirements.txt requirements-dev.txt localbus/requirements.txt constraints.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required (found %s)" % sys.version.split()[0])'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check uv -c constraints.txt
	$(UV) pip install -q --python $(PY) -r requirements-dev.txt -c constraints.txt
	$(UV) pip install -q --python $(PY) --no-deps -e .
	touch $@

# Bytecode for every installed module, written once. Where PYTHONDONTWRITEBYTECODE is set,
# Python caches none, and each synth compiled aws_cdk's service modules from source again
# (about 2 s of CPU per `cdk synth`; bench/README.md, "Synth: where the time goes").
$(PYC_STAMP): $(VENV_STAMP)
	$(PY) -m compileall -q -j 0 $(VENV)/lib
	touch $@

# checkov pins packages (boto3 among them) that clash with the app's, so it gets its own venv.
$(CHECKOV_STAMP): requirements-checkov.txt | $(VENV_STAMP)
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(UV) pip install -q --python $(CHECKOV_VENV)/bin/python -r requirements-checkov.txt
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(LOCALBUS_NODE_STAMP): $(LOCALBUS_NODE)/package.json $(LOCALBUS_NODE)/package-lock.json
	npm ci --prefix $(LOCALBUS_NODE) --no-audit --no-fund --loglevel=error
	touch $@

lint: $(VENV_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV_STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Every core (pytest-xdist); each worker is a pytest session (tests/conftest.py shares the synths).
# --dist loadfile keeps a file's tests on one worker, so a module fixture (simulate's 2,000
# orders, a Kafka broker) runs once, not once per worker.
test: setup lint
	$(PY) -m pytest -n auto --dist loadfile

# synth and demo need only the app's venv and the CDK CLI; checkov (.venv-checkov) is for make test.
synth: $(VENV_STAMP) $(NODE_STAMP)
	npx cdk synth -q -c stage=$(STAGE) $(CDK_CONTEXT)

demo: synth
	$(VENV)/bin/ordersctl demo --cdk-out cdk.out

# Refresh the architecture diagram (generated from the template) in docs/architecture.md and README.md.
docs: synth
	$(VENV)/bin/ordersctl routes --cdk-out cdk.out --mermaid --write-docs

bench: synth
	$(PY) -m bench

# Regenerate lambdas/shared/schema_validators/ from schemas/ (a test fails while they differ).
validators: $(VENV_STAMP)
	cd lambdas && ../$(PY) -m shared.validators_codegen

clean:
	rm -rf cdk.out .pytest_cache .ruff_cache
