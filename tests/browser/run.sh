#!/usr/bin/env bash
# Browser accessibility check, run by CI (not by `cargo test`):
#   bash tests/browser/run.sh
# Installs Debian's Chromium and the npm packages in tests/browser/package-lock.json (axe-core,
# playwright-core; no browser download), builds the release binary (unless BESKPLAN_BIN names
# one), starts it on a free loopback port with a temporary SQLite database and the demo data, then
# check.mjs opens the five plan documents and the hearing summary in headless Chromium, runs
# axe-core (WCAG 2.0/2.1 A and AA) on each, fails on any violation and saves full-page screenshots
# to docs/screenshots/. Talks only to 127.0.0.1 (and to the package registries while installing).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT=$PWD
started=$SECONDS

step() { printf '\n==> %s\n' "$*"; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/beskplan-browser.XXXXXX")
SERVER_PID=
CHECK_PID=
cleanup() {
  local status=$?
  if [ -n "$CHECK_PID" ]; then
    kill "$CHECK_PID" 2>/dev/null || true
    wait "$CHECK_PID" 2>/dev/null || true
  fi
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [ "$status" != 0 ] && [ -s "$TMP/server.log" ]; then
    echo "--- server log (last 40 lines) ---" >&2
    tail -n 40 "$TMP/server.log" >&2 || true
  fi
  rm -rf "$TMP"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

step "System packages (Debian's Chromium)"
CHROMIUM=/usr/bin/chromium
if [ -x "$CHROMIUM" ] && command -v curl >/dev/null; then
  echo "already installed"
elif [ "$(id -u)" = 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt_install() {
    apt-get -o DPkg::Lock::Timeout=300 update -qq &&
      apt-get -o DPkg::Lock::Timeout=300 install -y -qq chromium fonts-dejavu-core curl >/dev/null
  }
  # Another apt run on the same machine can clean the package cache under this one: try again.
  apt_install || { echo "apt-get failed; trying once more" >&2; sleep 5; apt_install; }
else
  echo "not root and $CHROMIUM or curl is missing: install the Debian packages chromium and curl" >&2
  exit 1
fi
"$CHROMIUM" --version 2>/dev/null || true

step "npm packages (tests/browser/package-lock.json)"
command -v node >/dev/null && command -v npm >/dev/null || { echo "node and npm are needed (Node.js 20 or newer)" >&2; exit 1; }
# Installed afresh whenever package-lock.json differs from the one last installed.
if cmp -s tests/browser/package-lock.json tests/browser/node_modules/.installed-lock.json 2>/dev/null; then
  echo "up to date"
else
  # Playwright never downloads a browser here: the check uses /usr/bin/chromium.
  (cd tests/browser && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error &&
    cp package-lock.json node_modules/.installed-lock.json)
fi

step "beskplan binary"
if [ -n "${BESKPLAN_BIN:-}" ]; then
  BIN=$BESKPLAN_BIN
else
  cargo build --release --locked
  BIN=$(cargo metadata --format-version 1 --no-deps 2>/dev/null |
    node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).target_directory))')/release/beskplan
fi
[ -x "$BIN" ] || { echo "no executable at $BIN" >&2; exit 1; }
echo "$BIN"

step "Server on loopback with the demo data"
PORT=$((20000 + RANDOM % 30000))
while (echo >"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; do PORT=$((PORT + 1)); done
BASE="http://127.0.0.1:$PORT"
BESKPLAN_DEMO=1 \
  DATABASE_URL="$TMP/demo.sqlite3" \
  BESKPLAN_BIND="127.0.0.1:$PORT" \
  BESKPLAN_JWT_SECRET="$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')" \
  BESKPLAN_LOG_FORMAT=text \
  "$BIN" >"$TMP/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 600); do
  if curl --noproxy '*' -fsS -o /dev/null "$BASE/readyz" 2>/dev/null; then break; fi
  kill -0 "$SERVER_PID" 2>/dev/null || { echo "the server exited while starting" >&2; exit 1; }
  sleep 0.1
done
curl --noproxy '*' -fsS -o /dev/null "$BASE/readyz" || { echo "the server was not ready after 60 s" >&2; exit 1; }
echo "ready at $BASE (pid $SERVER_PID)"

step "Accessibility (axe-core) and screenshots in headless Chromium"
mkdir -p "$TMP/chromium-profile"
status=0
# In the background and waited for, so that a signal to this script ends it (and the trap) at once.
BESKPLAN_URL="$BASE" CHROMIUM="$CHROMIUM" CHROMIUM_PROFILE="$TMP/chromium-profile" SCREENSHOT_DIR="$ROOT/docs/screenshots" \
  NO_PROXY='*' no_proxy='*' timeout 300 node tests/browser/check.mjs &
CHECK_PID=$!
wait "$CHECK_PID" || status=$?
CHECK_PID=
echo "took $((SECONDS - started)) s"
exit "$status"
