#!/usr/bin/env bash
# The three Lambda functions run as AWS would run them, locally: `cargo lambda watch` hosts
# them, `cargo lambda invoke` calls them, against a fresh PostgreSQL database, a fake Odds API
# on loopback and moto for EventBridge. Checks each JSON summary, the stored rows and the rule
# left in moto. Needs the virtualenv from `make venv`.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv
PY="$VENV/bin/python"
LAMBDA="$VENV/bin/cargo-lambda"
[ -x "$LAMBDA" ] && [ -x "$VENV/bin/moto_server" ] || { echo "error: run 'make venv' first" >&2; exit 1; }

work=$(mktemp -d)
pids=()
db_name="odds_lambda_e2e_$$"
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ -n "${admin_url:-}" ]; then
    psql -q "$admin_url" -c "DROP DATABASE IF EXISTS $db_name WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
  for _ in $(seq 1 600); do
    (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.5
  done
  echo "error: nothing listens on port $1" >&2; return 1
}

echo "==> building"
cargo build -q -p odds-tests --bin dev-db --bin fake-odds-api
cargo build -q -p fetch-odds -p fetch-scores -p update-status

echo "==> database"
db_url=$(target/debug/dev-db "$db_name")
admin_url=$("$PY" -c 'import sys,urllib.parse as u; p=u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/postgres")))' "$db_url")
DATABASE_URL="$db_url" cargo run -q -p odds-cli -- migrate >/dev/null

echo "==> moto and the fake Odds API"
moto_port=$(free_port)
"$VENV/bin/moto_server" -H 127.0.0.1 -p "$moto_port" >"$work/moto.log" 2>&1 &
pids+=($!)
target/debug/fake-odds-api 360 >"$work/api.url" 2>"$work/api.log" &
pids+=($!)
wait_port "$moto_port"
for _ in $(seq 1 100); do [ -s "$work/api.url" ] && break; sleep 0.1; done
api_url=$(head -n1 "$work/api.url")

invoke_port=$(free_port)
# The emulator's invocation context carries a placeholder ARN that EventBridge (and moto)
# reject as a rule target, hence SCHEDULER_TARGET_ARN; on AWS the context's own ARN is used.
cat >"$work/env" <<ENV
DATABASE_URL=$db_url
ODDS_API_KEY=e2e0e2e0e2e0e2e0e2e0e2e0e2e0e2e0
ODDS_API_BASE_URL=$api_url
SCHEDULER_BACKEND=aws
RULE_PREFIX=odds-e2e
SCHEDULER_TARGET_ARN=arn:aws:lambda:us-east-1:123456789012:function:{job}
AWS_ENDPOINT_URL=http://127.0.0.1:$moto_port
AWS_ACCESS_KEY_ID=test
AWS_SECRET_ACCESS_KEY=test
AWS_REGION=us-east-1
LOG_LEVEL=info
ENV

echo "==> cargo lambda watch on port $invoke_port"
"$LAMBDA" lambda watch --quiet --ignore-changes --invoke-address 127.0.0.1 \
  --invoke-port "$invoke_port" --env-file "$work/env" >"$work/watch.log" 2>&1 &
pids+=($!)
wait_port "$invoke_port"

invoke() { # function, payload -> summary JSON on stdout
  "$LAMBDA" lambda invoke "$1" --invoke-address 127.0.0.1 --invoke-port "$invoke_port" \
    --data-ascii "$2" --output-format json
}

check() { # function, summary file, python assertions over s (summary) and rule
  "$PY" - "$1" "$2" "$moto_port" "$3" <<'PY'
import json, sys, boto3
function, path, port, assertions = sys.argv[1:5]
s = json.load(open(path))
events = boto3.client("events", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                      aws_access_key_id="test", aws_secret_access_key="test")
rule = events.describe_rule(Name=f"odds-e2e-{function}")
targets = events.list_targets_by_rule(Rule=f"odds-e2e-{function}")["Targets"]
target_input = json.loads(targets[0]["Input"])
from datetime import datetime
at = datetime.fromisoformat(s["next_run_at"].replace("Z", "+00:00"))
expected = f"cron({at.minute} {at.hour} {at.day} {at.month} ? {at.year})"
assert rule["ScheduleExpression"] == expected, (rule["ScheduleExpression"], expected)
assert rule["State"] == "ENABLED", rule
assert targets[0]["Arn"].endswith(f":function:{function}"), targets
assert target_input["job"] == function, target_input
exec(assertions)
print(f"   {function}: {s['outcome']}, {s['reason']}; next run {s['next_run_at']} ({rule['ScheduleExpression']})")
PY
}

rows() { psql -tA "$db_url" -c "$1"; }

echo "==> invoking"
invoke fetch-odds '{"force":true}' >"$work/odds.json" || { cat "$work/odds.json" "$work/watch.log" >&2; exit 1; }
check fetch-odds "$work/odds.json" '
assert s["job"] == "fetch-odds" and s["executed"] and s["outcome"] == "success", s
assert s["snapshots_stored"] == 14 and s["credits_used"] == 3 and s["tier"] == "pregame", s'
[ "$(rows 'SELECT count(*) FROM odds_snapshots')" = 14 ] || { echo "error: snapshots not stored" >&2; exit 1; }
n=$(rows "SELECT count(*) FROM odds"); [ "$n" = 672 ] || { echo "error: $n odds rows stored, expected 672" >&2; exit 1; }
[ "$(rows "SELECT count(*) FROM fetch_logs WHERE endpoint = 'odds' AND credits_last = 3")" = 1 ] || { echo "error: no fetch log" >&2; exit 1; }

invoke fetch-scores '{}' >"$work/scores.json"
check fetch-scores "$work/scores.json" '
assert s["job"] == "fetch-scores" and not s["executed"] and s["credits_used"] == 0, s'

invoke update-status '{}' >"$work/status.json"
check update-status "$work/status.json" '
assert s["job"] == "update-status" and s["executed"] and s["outcome"] == "success", s'

# The fixed-rate watchdog's EventBridge envelope: the chain is armed, so nothing happens.
invoke fetch-odds '{"version":"0","id":"e2e","detail-type":"Scheduled Event","source":"aws.events","account":"123456789012","time":"2026-01-01T00:00:00Z","region":"us-east-1","resources":[],"detail":{}}' >"$work/watchdog.json"
check fetch-odds "$work/watchdog.json" '
assert s["invocation"] == "watchdog" and not s["executed"], s
assert s["reason"].startswith("watchdog: next run armed"), s'
[ "$(rows 'SELECT count(*) FROM odds_snapshots')" = 14 ] || { echo "error: the watchdog fetched again" >&2; exit 1; }

if grep -q e2e0e2e0e2e0e2e0 "$work/watch.log"; then echo "error: the API key reached the logs" >&2; exit 1; fi
echo "lambda e2e: 4 passed, 0 failed"
