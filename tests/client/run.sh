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

# shellcheck source=tests/lib/server.sh
source "$ROOT/tests/lib/server.sh"

step "Python and openapi-python-client (in $VENV)"
make_python "$VENV" "$HERE/requirements.txt"
"$VENV/bin/openapi-python-client" --version

WORK=$(mktemp -d)
cleanup() {
  stop_beskplan
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step "Generate the client from $SPEC"
# --meta none: the output folder is the package itself (beskplan_client, named in config.yaml).
# The generator warns about what it cannot generate (such as a text/csv request body) and goes on.
"$VENV/bin/openapi-python-client" generate --path "$SPEC" \
  --output-path "$WORK/client/beskplan_client" --meta none --config "$HERE/config.yaml"

find_beskplan "$ROOT"

step "Start beskplan with the demo data"
start_beskplan "$WORK" client

step "A plan's whole life through the generated client"
status=0
PYTHONPATH="$WORK/client" "$PY" "$HERE/whole_life.py" "$BASE" "$SPEC" "$@" || status=$?
if [ "$status" != 0 ]; then
  step "Server log: errors"
  grep -E "ERROR|panicked" "$WORK/server.log" | tail -n 30 || echo "(none)"
fi
echo "took $(($(date +%s) - started)) s"
exit "$status"
