# The commands a user types. `make run` and `make test` need nothing beyond Rust, Python and
# PostgreSQL's programs: without DATABASE_URL a local database is found or started for you.

SHELL := /bin/bash
CARGO ?= cargo
# Resolved only by the targets that use it.
DEV_DATABASE_URL = $(shell $(CARGO) run -q -p odds-tests --bin dev-db)

VENV := .venv
VENV_STAMP := $(VENV)/.installed

.PHONY: run simulate-season test test-rust test-lambda venv lint fmt fmt-check migrate bench build dev-db help

help:
	@echo "make run      the simulated demo (no ODDS_API_KEY) or the real collector (with one)"
	@echo "make simulate-season  replay a 1,230-game season: standard, economy, the original, budgets"
	@echo "make test     run the whole test suite against a real PostgreSQL (and moto, cargo lambda)"
	@echo "make migrate  apply migrations to DATABASE_URL"
	@echo "make bench    storage and planning benchmarks (median and spread)"
	@echo "make lint     rustfmt check and clippy with warnings denied"
	@echo "make fmt      format the code"

# Without ODDS_API_KEY (in the environment or .env): the simulated game-day demo, in its own
# scratch database. With a key: the real harness, collecting until stopped.
run:
	@if [ -n "$$ODDS_API_KEY" ] || grep -qs '^ODDS_API_KEY=.' .env; then \
		url="$${DATABASE_URL:-$$($(CARGO) run -q -p odds-tests --bin dev-db odds)}"; \
		echo "Collecting for real into $$url (Ctrl+C stops after the job in flight)"; \
		DATABASE_URL="$$url" SCHEDULER_BACKEND="$${SCHEDULER_BACKEND:-local}" \
			$(CARGO) run -q -p local-harness -- run; \
	else \
		url="$$($(CARGO) run -q -p odds-tests --bin dev-db -- --fresh odds_demo)" && \
		DATABASE_URL="$$url" $(CARGO) run -q -p local-harness -- demo; \
	fi

# Replays a generated 1,230-game season under the standard and economy policies and under the
# original's rules at two chain phases, then under monthly budgets of 500 and 1,000 credits.
simulate-season:
	@mkdir -p target/sim
	$(CARGO) build -q --release -p local-harness -p odds-tests --bin local-harness --bin dev-db
	target/release/local-harness generate-season --out target/sim/season.json
	for policy in standard economy original; do \
		DATABASE_URL="$$(target/release/dev-db --fresh odds_sim_$$policy)" target/release/local-harness \
			simulate --schedule target/sim/season.json --calls target/sim/$$policy.jsonl --policy $$policy || exit 1; \
	done
	DATABASE_URL="$$(target/release/dev-db --fresh odds_sim_original_late)" target/release/local-harness \
		simulate --schedule target/sim/season.json --calls target/sim/original-late.jsonl --policy original \
		--start-offset-minutes 17
	for budget in 500 1000; do \
		DATABASE_URL="$$(target/release/dev-db --fresh odds_sim_budget_$$budget)" target/release/local-harness \
			simulate --schedule target/sim/season.json --calls target/sim/budget-$$budget.jsonl --policy standard \
			--monthly-credits $$budget || exit 1; \
	done

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
