# The commands a user types. `make run` and `make test` need nothing beyond Rust, Python and
# PostgreSQL's programs: without DATABASE_URL a local database is found or started for you.

SHELL := /bin/bash
CARGO ?= cargo
# Resolved only by the targets that use it.
DEV_DATABASE_URL = $(shell $(CARGO) run -q -p odds-tests --bin dev-db)

VENV := .venv
VENV_STAMP := $(VENV)/.installed

.PHONY: run test test-rust test-lambda venv lint fmt fmt-check migrate bench build dev-db help

help:
	@echo "make run      set up the database and run the collector (see README)"
	@echo "make test     run the whole test suite against a real PostgreSQL (and moto, cargo lambda)"
	@echo "make migrate  apply migrations to DATABASE_URL"
	@echo "make bench    storage benchmarks (median and spread)"
	@echo "make lint     rustfmt check and clippy with warnings denied"
	@echo "make fmt      format the code"

run:
	@url="$${DATABASE_URL:-$(DEV_DATABASE_URL)}"; \
	test -n "$$url" || { echo "error: no database (set DATABASE_URL)"; exit 1; }; \
	DATABASE_URL="$$url" $(CARGO) run -q -p odds-cli -- migrate && \
	echo && \
	echo "Database ready: $$url" && \
	echo "The collector itself (local-harness with a simulated game day when ODDS_API_KEY is" && \
	echo "unset) is not built yet; see README 'Status'. Meanwhile explore with:" && \
	echo "  DATABASE_URL=$$url cargo run -q -p odds-cli -- --help"

test: venv test-rust test-lambda

test-rust: venv
	@if $(CARGO) nextest --version >/dev/null 2>&1; then \
		$(CARGO) nextest run --workspace --no-fail-fast; \
	else \
		$(CARGO) test --workspace --no-fail-fast; \
	fi

# The Lambda functions under `cargo lambda watch`, invoked with `cargo lambda invoke`.
test-lambda: venv
	bash scripts/lambda-e2e.sh

# Python tools (moto, cargo-lambda) in a project-local virtualenv.
venv: $(VENV_STAMP)

$(VENV_STAMP): tools/requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r tools/requirements.txt
	touch $@

lint: fmt-check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt-check:
	$(CARGO) fmt --all -- --check

fmt:
	$(CARGO) fmt --all

migrate:
	@test -n "$$DATABASE_URL" || { echo "error: DATABASE_URL is not set"; exit 1; }
	$(CARGO) run -q -p odds-cli -- migrate

bench:
	$(CARGO) bench -p odds-tests --bench storage_bench

build:
	$(CARGO) build --workspace --release

dev-db:
	@echo $(DEV_DATABASE_URL)
include infra/deploy.mk
