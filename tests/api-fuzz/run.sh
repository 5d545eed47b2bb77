#!/usr/bin/env bash
# Property-based API tests: Schemathesis generates requests from openapi/openapi.json and checks
# the answers of a running beskplan (debug build, temporary SQLite database, demo data) against it.
#
# One run per role (anonymous, viewer, consultee, approver, planner, admin: least to most
# privileged, so that what a broader role changes cannot spoil a narrower role's run), each over
# every operation except the token endpoint, then one anonymous run over the token endpoint alone.
# The token endpoint slows down repeated failed logins (429 after 5 failures in 15 minutes per
# username or per address, and every request here comes from 127.0.0.1): fuzzing it earlier would
# lock the demo users out before their tokens are fetched, so it goes last, where its documented
# 429 answers harm nothing.
#
# Exits non-zero when Schemathesis reports a failure; the last line is
# `schemathesis: N passed, M failed` (N and M count operations over all runs).
#
# Settings (environment):
#   BESKPLAN_BIN        a beskplan binary to test instead of building one with `cargo build`
#   FUZZ_MAX_EXAMPLES   test cases per operation and phase (default 20)
#   FUZZ_WORKERS        concurrent Schemathesis workers (default 1: the Python 3.11 of Debian 12 can
#                       fail inside Hypothesis with "AST constructor recursion depth mismatch"
#                       when workers (threads) parse at the same time)
#   FUZZ_SEED           a seed to repeat a run (default: a new one each time, printed by st)
#   FUZZ_ROLES          the runs to make (default: "anonymous viewer consultee approver planner admin token")
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
VENV="$HERE/.venv"
MAX_EXAMPLES=${FUZZ_MAX_EXAMPLES:-20}
WORKERS=${FUZZ_WORKERS:-1}
ROLES=${FUZZ_ROLES:-anonymous viewer consultee approver planner admin token}

step() { printf '\n==> %s\n' "$*"; }
started=$(date +%s)

step "Python and Schemathesis (in $VENV)"
make_venv() { rm -rf "$VENV" && python3 -m venv "$VENV" >/dev/null; }
if [ ! -x "$VENV/bin/pip" ] && ! make_venv; then
  # Debian's python3 creates virtual environments only with python3-venv installed.
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq python3 python3-venv >/dev/null
    make_venv
  else
    echo "python3 with the venv module is needed (Debian: apt-get install python3-venv)" >&2
    exit 2
  fi
fi
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$HERE/requirements.txt"
PY="$VENV/bin/python"
ST="$VENV/bin/st"
"$ST" --version

if [ -n "${BESKPLAN_BIN:-}" ]; then
  BIN=$BESKPLAN_BIN
else
  step "cargo build"
  (cd "$ROOT" && cargo build --bin beskplan)
  TARGET_DIR=$(cd "$ROOT" && cargo metadata --no-deps --format-version 1 \
    | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
  BIN="$TARGET_DIR/debug/beskplan"
fi
[ -x "$BIN" ] || { echo "no beskplan binary at $BIN" >&2; exit 2; }

step "Start beskplan with the demo data"
WORK=$(mktemp -d)
SERVER_PID=
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
BESKPLAN_DEMO=1 \
  DATABASE_URL="$WORK/fuzz.sqlite3" \
  BESKPLAN_BIND="127.0.0.1:$PORT" \
  BESKPLAN_JWT_SECRET="api-fuzz-secret-$(date +%s%N)-0123456789abcdef" \
  BESKPLAN_LOG_FORMAT=text \
  RUST_LOG=warn \
  "$BIN" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!

"$PY" - "$BASE" "$SERVER_PID" <<'EOF'
import os, sys, time, urllib.request
base, pid = sys.argv[1], int(sys.argv[2])
deadline = time.time() + 120
while time.time() < deadline:
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit("beskplan exited during start-up")
    try:
        with urllib.request.urlopen(base + "/readyz", timeout=2) as response:
            if response.status == 200:
                sys.exit(0)
    except Exception:
        pass
    time.sleep(0.5)
sys.exit("beskplan was not ready within 120 s")
EOF
echo "ready on $BASE (pid $SERVER_PID)"

# A bearer token for a demo user, from the token endpoint (form-encoded password grant).
token() {
  "$PY" - "$BASE" "$1" "$2" <<'EOF'
import json, sys, urllib.parse, urllib.request
base, username, password = sys.argv[1:4]
form = urllib.parse.urlencode({"grant_type": "password", "username": username, "password": password}).encode()
with urllib.request.urlopen(urllib.request.Request(base + "/api/v1/auth/token", data=form), timeout=30) as response:
    print(json.load(response)["access_token"])
EOF
}

declare -A TOKENS
for role in $ROLES; do
  case $role in
    anonymous | token) ;;
    *) TOKENS[$role]=$(token "$role" "demo-$role-password") ;;
  esac
done

# A fresh Idempotency-Key for every request (see hooks.py).
export SCHEMATHESIS_HOOKS="$HERE/hooks.py"

seed_args=()
[ -n "${FUZZ_SEED:-}" ] && seed_args=(--seed "$FUZZ_SEED")

status=0
for role in $ROLES; do
  step "Schemathesis as $role"
  # No --checks: every check runs (see schemathesis.toml), and a check named here would override
  # the per-operation exceptions there.
  args=(--url "$BASE" --max-examples "$MAX_EXAMPLES" --workers "$WORKERS" --no-color
    --report junit --report-junit-path "$WORK/junit-$role.xml" "${seed_args[@]}")
  case $role in
    anonymous) args+=(--exclude-path /api/v1/auth/token) ;;
    token) args+=(--include-path /api/v1/auth/token) ;;
    *) args+=(--exclude-path /api/v1/auth/token -H "Authorization: Bearer ${TOKENS[$role]}") ;;
  esac
  # From this folder, so that Schemathesis' example database stays in its git-ignored .schemathesis/.
  rc=0
  (cd "$HERE" && "$ST" --config-file "$HERE/schemathesis.toml" run "$ROOT/openapi/openapi.json" "${args[@]}") || rc=$?
  echo "$rc" >"$WORK/rc-$role"
  [ "$rc" = 0 ] || status=1
done

if [ "$status" != 0 ]; then
  step "Server log: errors (4xx answers are logged as warnings and left out)"
  grep -E "ERROR|panicked" "$WORK/server.log" | tail -n 50 || echo "(none)"
fi

step "Summary ($(($(date +%s) - started)) s)"
summary=0
"$PY" - "$WORK" $ROLES <<'EOF' || summary=$?
import sys
import xml.etree.ElementTree as ET
work, roles = sys.argv[1], sys.argv[2:]
passed = failed = 0
for role in roles:
    rc = open(f"{work}/rc-{role}").read().strip()
    try:
        cases = list(ET.parse(f"{work}/junit-{role}.xml").iter("testcase"))
    except (OSError, ET.ParseError):
        cases = []
    bad = [c for c in cases if c.find("failure") is not None or c.find("error") is not None]
    skipped = [c for c in cases if c.find("skipped") is not None]
    for case in bad:
        print(f"{role}: FAILED {case.get('name')}")
    print(f"{role}: {len(cases)} operations, {len(bad)} failed, {len(skipped)} skipped (st exit {rc})")
    passed += len(cases) - len(bad) - len(skipped)
    if rc != "0" and not bad:
        # st failed without naming an operation: the schema or the server was unusable.
        bad = [None]
    failed += len(bad)
print(f"schemathesis: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
EOF
exit $((status | summary))
