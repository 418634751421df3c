#!/usr/bin/env bash
# One function run locally the way Lambda runs it: `cargo lambda watch` hosts it, `cargo lambda
# invoke` sends EVENT, and the JSON summary is printed. The database is DATABASE_URL, else the
# local server's `odds` (with ODDS_API_KEY) or `odds_invoke_local` (without), migrated.
# Without ODDS_API_KEY a fake Odds API on loopback serves a slate, so nothing paid is called. The scheduler is a dry run unless SCHEDULER_DRY_RUN=false,
# which needs AWS credentials and SCHEDULER_TARGET_ARN (the emulator's own ARN is not a real
# function). Called by `make invoke-local FN=... EVENT=...`.
set -euo pipefail
cd "$(dirname "$0")/.."
FN=${FN:-fetch-odds}
EVENT=${EVENT:-'{"watchdog": true}'}
case "$FN" in fetch-odds|fetch-scores|update-status) ;; *) echo "error: FN must be fetch-odds, fetch-scores or update-status" >&2; exit 2;; esac
command -v cargo-lambda >/dev/null || { echo "error: run 'make venv' first" >&2; exit 1; }

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

cargo build -q -p odds-tests --bin dev-db --bin fake-odds-api
api_key=${ODDS_API_KEY:-}
api_url=${ODDS_API_BASE_URL:-}
# The fake slate goes to a database of its own, never into the development one.
if [ -n "$api_key" ]; then default_db=odds; else default_db=odds_invoke_local; fi
db_url=${DATABASE_URL:-$(target/debug/dev-db "$default_db")}
DATABASE_URL="$db_url" cargo run -q -p odds-cli -- migrate >/dev/null
echo "==> database $(echo "$db_url" | sed -E 's#//([^:/@]*):[^@]*@#//\1:***@#')" >&2

if [ -z "$api_key" ]; then
  target/debug/fake-odds-api 360 >"$work/api.url" 2>"$work/api.log" &
  pids+=($!)
  for _ in $(seq 1 100); do [ -s "$work/api.url" ] && break; sleep 0.1; done
  api_url=$(head -n1 "$work/api.url")
  api_key=local0local0local0local0local0lo
  echo "==> no ODDS_API_KEY: a fake Odds API at $api_url" >&2
fi

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
{
  echo "DATABASE_URL=$db_url"
  echo "ODDS_API_KEY=$api_key"
  [ -n "$api_url" ] && echo "ODDS_API_BASE_URL=$api_url"
  echo "SCHEDULER_BACKEND=aws"
  echo "SCHEDULER_DRY_RUN=${SCHEDULER_DRY_RUN:-true}"
  echo "RULE_PREFIX=${RULE_PREFIX:-odds-local}"
  [ -n "${SCHEDULER_TARGET_ARN:-}" ] && echo "SCHEDULER_TARGET_ARN=$SCHEDULER_TARGET_ARN"
  echo "LOG_LEVEL=${LOG_LEVEL:-info}"
  echo "LOG_FORMAT=${LOG_FORMAT:-pretty}"
} >"$work/env"
chmod 600 "$work/env"

cargo-lambda lambda watch --quiet --ignore-changes --invoke-address 127.0.0.1 --invoke-port "$port" \
  --env-file "$work/env" >"$work/watch.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 600); do (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.5; done

echo "==> $FN <- $EVENT" >&2
if ! cargo-lambda lambda invoke "$FN" --invoke-address 127.0.0.1 --invoke-port "$port" \
  --data-ascii "$EVENT" --output-format json; then
  echo "error: the invocation failed; the function's log:" >&2
  cat "$work/watch.log" >&2
  exit 1
fi
echo
echo "==> log" >&2
grep -v "^$" "$work/watch.log" | tail -n 20 >&2 || true
