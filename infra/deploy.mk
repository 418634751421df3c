# Deployment to AWS (included by the root Makefile). cargo-lambda (with Zig for the aarch64
# cross-build) and the SAM CLI come from the project virtualenv (`make venv`); nothing else
# needs installing by hand.

# The venv first on PATH: cargo lambda finds Zig there (python-zig), sam finds cargo-lambda.
TOOLS_PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
SAM_ENV ?= default
SAM_HOME := $(CURDIR)/$(VENV)/sam-home
# No telemetry, and a version check marked as just done, so validate never opens a socket.
SAM_PREP = mkdir -p $(SAM_HOME) && \
	printf '{"telemetryEnabled": false, "lastVersionCheck": %s}\n' "$$(date +%s)" >$(SAM_HOME)/metadata.json
SAM = PATH="$(TOOLS_PATH)" SAM_CLI_TELEMETRY=0 __SAM_CLI_APP_DIR=$(SAM_HOME) $(VENV)/bin/sam
# Only the functions (not the CLI or test tools), with the workspace's feature set, exactly
# as `sam build` builds them, so the two share target/.
LAMBDA_BINS := --bin fetch-odds --bin fetch-scores --bin update-status
FN ?= fetch-odds
EVENT ?= {"watchdog": true}

.PHONY: lambda-build validate deploy invoke-local logs bench-functions help-deploy

help: help-deploy
help-deploy:
	@echo "make build         also cargo lambda build --release --arm64 (target/lambda/<fn>/bootstrap)"
	@echo "make validate      sam validate --lint of infra/template.yaml (offline)"
	@echo "make deploy        sam build and sam deploy (SAM_ENV=prod for the prod environment)"
	@echo "make invoke-local  run one function locally under cargo lambda (FN=fetch-odds EVENT='{...}')"
	@echo "make logs          tail the deployed functions' logs (LOGS_NAME=FetchOddsFunction for one)"
	@echo "make bench         also zip size, cold start and peak memory of the three functions"

# Adds the Lambda artifacts to the root Makefile's `build`.
build: lambda-build
lambda-build: venv
	@echo "cargo lambda build --release --arm64 $(LAMBDA_BINS)"
	@PATH="$(TOOLS_PATH)" $(CARGO) lambda build --release --arm64 $(LAMBDA_BINS)

# No credentials and a dummy region: the lint is local (SAM transform + cfn-lint), so it runs
# in CI and on a laptop without an AWS account.
validate: venv
	@$(SAM_PREP)
	@env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN -u AWS_PROFILE \
		AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true \
		AWS_DEFAULT_REGION=us-east-1 \
		$(SAM) validate --lint --template-file infra/template.yaml --region us-east-1

deploy: venv validate
	$(SAM_PREP)
	$(SAM) build --config-env $(SAM_ENV)
	$(SAM) deploy --config-env $(SAM_ENV)

invoke-local: venv
	@FN='$(FN)' EVENT='$(EVENT)' PATH="$(TOOLS_PATH)" bash infra/invoke-local.sh

# All three functions, or one: make logs LOGS_NAME=FetchOddsFunction
logs: venv
	@$(SAM_PREP)
	$(SAM) logs --config-env $(SAM_ENV) --tail $(if $(LOGS_NAME),--name $(LOGS_NAME))

# Runs before the root Makefile's storage benchmark: `make bench` measures both.
bench: bench-functions
bench-functions: venv
	@echo "cargo lambda build --release --arm64 --output-format zip $(LAMBDA_BINS)"
	@PATH="$(TOOLS_PATH)" $(CARGO) lambda build --release --arm64 --output-format zip $(LAMBDA_BINS)
	$(CARGO) build --release $(LAMBDA_BINS)
	$(CARGO) bench -p odds-tests --bench functions_bench
