# Developer commands for the trust index: `make help` lists them.
# Every target calls scripts/dev.sh, which does the work, so `make X` and `bash scripts/dev.sh X` behave
# identically and machines without make can use the script directly.

SHELL := /bin/bash
PYTHON ?= python3
VENV ?= $(CURDIR)/.venv
ARGS ?=
DEV := PYTHON="$(PYTHON)" VENV="$(VENV)" bash scripts/dev.sh

.DEFAULT_GOAL := help
.PHONY: help setup demo test test-fast ui trust lint bench dbt-docs chromium lock clean distclean

help: ## List the targets
	@echo "usage: make <target> [ARGS='extra arguments, e.g. for pytest']"
	@awk 'BEGIN {FS = ":.*## "} /^[a-z][a-z-]*:.*## / {printf "  %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

setup: ## Create .venv, install requirements.lock and the project, prepare the dbt manifest (quick when done)
	@$(DEV) setup

demo: ## setup, then generate the synthetic telco and materialise the whole graph (trust demo)
	@$(DEV) demo $(ARGS)

test: ## setup (with the bigquery extra), install chromium if missing, run the whole test suite (ARGS go to pytest)
	@$(DEV) test $(ARGS)

test-fast: ## setup, then the suite without the browser and slow multi-run tests (the inner loop)
	@$(DEV) test-fast $(ARGS)

ui: ## setup, then the Dagster UI (dagster dev) on http://127.0.0.1:3000
	@$(DEV) ui

trust: ## setup, then the trust command line (ARGS='summary', ARGS='--help', ...)
	@$(DEV) trust $(ARGS)

lint: ## ruff check (the rules in pyproject.toml)
	@$(DEV) lint

bench: ## Run every benchmarks/*.py (ARGS='daily_partition --customers 20000' runs one, with its arguments)
	@$(DEV) bench $(ARGS)

dbt-docs: ## Build the dbt docs site over the demo warehouse
	@$(DEV) dbt-docs

chromium: ## Install Debian's chromium for the browser tests (root or sudo)
	@$(DEV) chromium

lock: ## Recompile requirements-bigquery.lock and requirements.lock from pyproject.toml (uv pip compile)
	@$(DEV) lock

clean: ## Remove caches, build and test artifacts, the dbt target
	@$(DEV) clean

distclean: ## clean, plus .venv, the demo warehouse (data/) and the local Dagster instance state
	@$(DEV) distclean
