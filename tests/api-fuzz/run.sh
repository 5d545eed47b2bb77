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

# shellcheck source=tests/lib/server.sh
source "$ROOT/tests/lib/server.sh"

step "Python and Schemathesis (in $VENV)"
make_python "$VENV" "$HERE/requirements.txt"
ST="$VENV/bin/st"
"$ST" --version

find_beskplan "$ROOT"

step "Start beskplan with the demo data"
WORK=$(mktemp -d)
cleanup() {
  stop_beskplan
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
start_beskplan "$WORK" fuzz

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
