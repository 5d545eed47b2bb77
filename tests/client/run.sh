#!/usr/bin/env bash
# A generated client walks a plan's whole life, run by CI (not by `cargo test`):
#   bash tests/client/run.sh [--keep-going]
# Generates a Python client from openapi/openapi.json with openapi-python-client (into a temporary
# folder, settings in config.yaml), starts beskplan (debug build, temporary SQLite database, demo
# data) on a free loopback port and runs whole_life.py with the generated package: every call goes
# through the client's typed operations and every answer must parse into the contract's models.
# --keep-going (passed on to whole_life.py) reports every failed contract check instead of
# stopping at the first. The last line is `whole_life: N passed, M failed`.
#
# Settings (environment):
#   BESKPLAN_BIN       a beskplan binary to test instead of building one with `cargo build`
#   BESKPLAN_OPENAPI   the contract to generate the client from (default openapi/openapi.json)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
VENV="$HERE/.venv"
SPEC=$(realpath "${BESKPLAN_OPENAPI:-$ROOT/openapi/openapi.json}")

step() { printf '\n==> %s\n' "$*"; }
started=$(date +%s)

step "Python and openapi-python-client (in $VENV)"
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
"$VENV/bin/openapi-python-client" --version

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

step "Generate the client from $SPEC"
# --meta none: the output folder is the package itself (beskplan_client, named in config.yaml).
# The generator warns about what it cannot generate (such as a text/csv request body) and goes on.
"$VENV/bin/openapi-python-client" generate --path "$SPEC" \
  --output-path "$WORK/client/beskplan_client" --meta none --config "$HERE/config.yaml"

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
PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
BESKPLAN_DEMO=1 \
  DATABASE_URL="$WORK/client.sqlite3" \
  BESKPLAN_BIND="127.0.0.1:$PORT" \
  BESKPLAN_JWT_SECRET="client-test-secret-$(date +%s%N)-0123456789abcdef" \
  BESKPLAN_LOG_FORMAT=text \
  RUST_LOG=warn \
  "$BIN" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!

"$PY" - "$BASE" "$SERVER_PID" <<'EOF'
import os, sys, time, urllib.request
base, pid = sys.argv[1], int(sys.argv[2])
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: no proxy
deadline = time.time() + 120
while time.time() < deadline:
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit("beskplan exited during start-up")
    try:
        with opener.open(base + "/readyz", timeout=2) as response:
            if response.status == 200:
                sys.exit(0)
    except Exception:
        pass
    time.sleep(0.5)
sys.exit("beskplan was not ready within 120 s")
EOF
echo "ready on $BASE (pid $SERVER_PID)"

step "A plan's whole life through the generated client"
status=0
PYTHONPATH="$WORK/client" "$PY" "$HERE/whole_life.py" "$BASE" "$SPEC" "$@" || status=$?
if [ "$status" != 0 ]; then
  step "Server log: errors"
  grep -E "ERROR|panicked" "$WORK/server.log" | tail -n 30 || echo "(none)"
fi
echo "took $(($(date +%s) - started)) s"
exit "$status"
