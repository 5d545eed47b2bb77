# Shared by the checks that run against a live server (tests/api-fuzz/run.sh, tests/client/run.sh):
# a Python virtual environment, the beskplan binary, and beskplan started on a free loopback port
# with a temporary SQLite database and the demo data. Source it; it defines functions only.

# make_python VENV REQUIREMENTS: a virtual environment with the pinned packages; sets PY.
make_python() {
  local venv=$1 requirements=$2
  fresh_venv() { rm -rf "$venv" && python3 -m venv "$venv" >/dev/null; }
  if [ ! -x "$venv/bin/pip" ] && ! fresh_venv; then
    # Debian's python3 creates virtual environments only with python3-venv installed.
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq
      apt-get install -y -qq python3 python3-venv >/dev/null
      fresh_venv
    else
      echo "python3 with the venv module is needed (Debian: apt-get install python3-venv)" >&2
      exit 2
    fi
  fi
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$requirements"
  PY="$venv/bin/python"
}

# find_beskplan ROOT: sets BIN to $BESKPLAN_BIN, or builds the debug binary.
find_beskplan() {
  local root=$1 target_dir
  if [ -n "${BESKPLAN_BIN:-}" ]; then
    BIN=$BESKPLAN_BIN
  else
    step "cargo build"
    (cd "$root" && cargo build --bin beskplan)
    target_dir=$(cd "$root" && cargo metadata --no-deps --format-version 1 \
      | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
    BIN="$target_dir/debug/beskplan"
  fi
  [ -x "$BIN" ] || { echo "no beskplan binary at $BIN" >&2; exit 2; }
}

# start_beskplan WORK NAME: starts $BIN with the demo data in WORK and waits until it is ready;
# sets BASE and SERVER_PID. stop_beskplan ends it (call it from the EXIT trap).
SERVER_PID=
start_beskplan() {
  local work=$1 name=$2 port
  port=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  BASE="http://127.0.0.1:$port"
  BESKPLAN_DEMO=1 \
    DATABASE_URL="$work/$name.sqlite3" \
    BESKPLAN_BIND="127.0.0.1:$port" \
    BESKPLAN_JWT_SECRET="$name-secret-$(date +%s%N)-0123456789abcdef" \
    BESKPLAN_LOG_FORMAT=text \
    RUST_LOG=warn \
    "$BIN" >"$work/server.log" 2>&1 &
  SERVER_PID=$!
  "$PY" - "$BASE" "$SERVER_PID" <<'PY'
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
PY
  echo "ready on $BASE (pid $SERVER_PID)"
}

stop_beskplan() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
}
