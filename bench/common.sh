#!/usr/bin/env bash
# Shared by bench/run.sh and bench/soak.sh (sourced, after they set their knobs): installs what
# the benchmarks lack, builds the release binary (unless BESKPLAN_BIN names one), makes a work
# folder that is removed on exit, and defines the helpers that start the server on SQLite or a
# throwaway PostgreSQL, call the API, run wrk and read the server's memory.
# Expects: ROOT, STARTED_AT, THREADS, CONNS, WRK_TIMEOUT, JWT_SECRET, ADMIN_PASSWORD.

log() { printf '[bench %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ---------------------------------------------------------------------------------------------
# 1. What the benchmark needs
# ---------------------------------------------------------------------------------------------
as_root() { [ "$(id -u)" = 0 ]; }

install_packages() {
  local need=() p
  for p in wrk postgresql postgresql-client curl jq; do
    dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
  done
  if [ -z "${BESKPLAN_BIN:-}" ]; then
    dpkg -s libpq-dev >/dev/null 2>&1 || need+=(libpq-dev) # the build links libpq
  fi
  if [ ${#need[@]} -eq 0 ]; then
    log "packages: all present"
    return
  fi
  as_root || die "missing packages (${need[*]}) and not root to install them"
  log "packages: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${need[@]}" >/dev/null
}

install_packages
for tool in wrk curl jq psql; do command -v "$tool" >/dev/null || die "$tool not found"; done

WORK=$(mktemp -d /tmp/beskplan-bench.XXXXXX)
SERVER_PID=""
PG_DIR=""
PG_BIN=""
PG_RUNNING=""

stop_server() {
  [ -n "$SERVER_PID" ] || return 0
  if kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$SERVER_PID" 2>/dev/null && kill -KILL "$SERVER_PID" 2>/dev/null || true
  fi
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

run_pg() { if as_root; then runuser -u postgres -- "$@"; else "$@"; fi; }

stop_pg() {
  if [ -n "$PG_RUNNING" ]; then
    run_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
    PG_RUNNING=""
  fi
  if [ -n "$PG_DIR" ]; then rm -rf "$PG_DIR"; PG_DIR=""; fi
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_server
  stop_pg
  rm -rf "$WORK"
  log "cleaned up (exit $rc, $(($(date +%s) - STARTED_AT)) s in all)"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ -n "${BESKPLAN_BIN:-}" ]; then
  BIN_SRC=$BESKPLAN_BIN
  BUILT="given (BESKPLAN_BIN)"
else
  log "cargo build --release"
  build_started=$(date +%s)
  cargo build --release >&2
  BUILT="cargo build --release ($(($(date +%s) - build_started)) s)"
  BIN_SRC=$ROOT/target/release/beskplan
fi
[ -x "$BIN_SRC" ] || die "no binary at $BIN_SRC"
# The target directory is shared: run a private copy so a rebuild meanwhile does not swap it.
BIN=$WORK/beskplan
cp "$BIN_SRC" "$BIN"

COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
# What was built: HEAD, plus whatever uncommitted changes the (shared) work tree had then.
BUILD_PATHS=(src migrations templates Cargo.toml Cargo.lock)
if git diff --quiet HEAD -- "${BUILD_PATHS[@]}" 2>/dev/null; then DIRTY=false; else DIRTY=true; fi
DIRTY_FILES=$(git diff --name-only HEAD -- "${BUILD_PATHS[@]}" 2>/dev/null | wc -l)
DIRTY_DIFF=$(git diff HEAD -- "${BUILD_PATHS[@]}" 2>/dev/null | sha256sum | cut -c1-12)
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
DATE_ISO=$(date -u +%Y-%m-%dT%H:%M:%SZ)
RECORDS=$WORK/records.jsonl
: >"$RECORDS"
record() { jq -cn "$@" >>"$RECORDS"; }

# ---------------------------------------------------------------------------------------------
# Helpers: ports, the server, the API, wrk
# ---------------------------------------------------------------------------------------------
port_in_use() { (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() { local p=$1; while port_in_use "$p"; do p=$((p + 1)); done; echo "$p"; }

start_server() { # backend database_url
  local backend=$1 url=$2 code
  PORT=$(free_port 18380)
  BASE=http://127.0.0.1:$PORT
  env BESKPLAN_DEMO=1 DATABASE_URL="$url" BESKPLAN_BIND="127.0.0.1:$PORT" \
    BESKPLAN_JWT_SECRET="$JWT_SECRET" BESKPLAN_LOG_FORMAT=json RUST_LOG=warn \
    "$BIN" >"$WORK/$backend-server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 1200); do
    code=$(curl -s -o /dev/null -w '%{http_code}' "$BASE/readyz" || true)
    if [ "$code" = 200 ]; then
      log "$backend: server pid $SERVER_PID ready on $BASE"
      return 0
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || { tail -20 "$WORK/$backend-server.log" >&2; die "the server exited"; }
    sleep 0.1
  done
  die "the server was not ready within 120 s"
}

# api METHOD PATH [BODY [CONTENT-TYPE [EXTRA-HEADER]]]: prints the body; fails on non-2xx.
api() {
  local method=$1 path=$2 body=${3-} ctype=${4:-application/json} extra=${5-} code
  local args=(-sS -X "$method" -H "Authorization: Bearer $TOKEN" -o "$WORK/resp" -w '%{http_code}')
  [ -n "$body" ] && args+=(-H "Content-Type: $ctype" --data-binary "$body")
  [ -n "$extra" ] && args+=(-H "$extra")
  code=$(curl "${args[@]}" "$BASE$path") || die "$method $path: curl failed"
  case $code in
    2*) cat "$WORK/resp" ;;
    *) die "$method $path -> $code: $(head -c 400 "$WORK/resp")" ;;
  esac
}

login() {
  TOKEN=$(curl -sS "$BASE/api/v1/auth/token" --data-urlencode grant_type=password \
    --data-urlencode username=admin --data-urlencode "password=$ADMIN_PASSWORD" | jq -er .access_token) ||
    die "no admin token"
}

# Quotes a string for a curl config file.
cfg_quote() { local s=${1//\\/\\\\}; s=${s//\"/\\\"}; printf '"%s"' "$s"; }

# bulk METHOD FILE [CONTENT-TYPE [EXTRA-HEADER]]: FILE has "PATH<TAB>BODY" lines; one curl
# process sends them in order on a kept-alive connection and prints "STATUS<TAB>BODY" lines.
bulk() {
  local method=$1 file=$2 ctype=${3:-application/json} extra=${4-} cfg=$WORK/bulk.cfg path body
  : >"$cfg"
  while IFS=$'\t' read -r path body; do
    {
      [ -s "$cfg" ] && echo 'next'
      echo "url = $(cfg_quote "$BASE$path")"
      echo "request = $(cfg_quote "$method")"
      echo "header = $(cfg_quote "Authorization: Bearer $TOKEN")"
      if [ -n "$body" ]; then
        echo "header = $(cfg_quote "Content-Type: $ctype")"
        echo "data-binary = $(cfg_quote "$body")"
      fi
      [ -n "$extra" ] && echo "header = $(cfg_quote "$extra")"
      echo 'write-out = "\t%{http_code}\n"'
    } >>"$cfg"
  done <"$file"
  # Bodies are one-line JSON; the status follows each body after a tab.
  curl -sS -K "$cfg" | awk -F'\t' '{ print $NF "\t" substr($0, 1, length($0) - length($NF) - 1) }'
}

metric_statements() {
  curl -sS "$BASE/metrics" | awk '$1 == "beskplan_db_statements_total" { printf "%d\n", $2 }'
}

# sql_per_request METHOD FILE [CONTENT-TYPE [EXTRA-HEADER]]: sends the FILE's requests one after
# another and prints the SQL statements per request (and fails on any non-2xx).
sql_per_request() {
  local before after n bad
  before=$(metric_statements)
  bulk "$@" >"$WORK/seq.out"
  after=$(metric_statements)
  n=$(wc -l <"$WORK/seq.out")
  bad=$(awk -F'\t' '$1 !~ /^2/' "$WORK/seq.out" | wc -l)
  [ "$bad" = 0 ] || die "sequential $1 requests: $bad of $n not 2xx: $(awk -F'\t' '$1 !~ /^2/' "$WORK/seq.out" | head -2)"
  awk -v d=$((after - before)) -v n="$n" 'BEGIN { printf "%.2f\n", d / n }'
}

# wire_bytes PATH [HEADER]: the bytes of one GET's body as sent (not decoded: curl without
# --compressed), e.g. with "Accept-Encoding: br".
wire_bytes() {
  local args=(-s -o /dev/null -w '%{size_download}' -H "Authorization: Bearer $TOKEN")
  [ -n "${2-}" ] && args+=(-H "$2")
  curl "${args[@]}" "$BASE$1"
}

# content_encoding PATH [HEADER]: the Content-Encoding of one GET's answer ("" for none).
content_encoding() {
  local args=(-s -o /dev/null -D - -H "Authorization: Bearer $TOKEN")
  [ -n "${2-}" ] && args+=(-H "$2")
  curl "${args[@]}" "$BASE$1" | awk -F': *' 'tolower($1) == "content-encoding" { sub(/\r$/, "", $2); print $2 }'
}

repeat_get() { # path count -> a bulk file of GETs
  local i
  for ((i = 0; i < $2; i++)); do printf '%s\t\n' "$1"; done
}

# wrk_json FILE: the numbers of one wrk --latency run as JSON.
wrk_json() {
  awk '
    function ms(v) {
      if (v ~ /us$/) return substr(v, 1, length(v) - 2) / 1000
      if (v ~ /ms$/) return substr(v, 1, length(v) - 2) + 0
      if (v ~ /m$/)  return substr(v, 1, length(v) - 1) * 60000
      if (v ~ /s$/)  return substr(v, 1, length(v) - 1) * 1000
      return v + 0
    }
    /^ +Latency / && !lat { avg = ms($2); max = ms($4); lat = 1 }
    /^ +50% / { p50 = ms($2) }
    /^ +75% / { p75 = ms($2) }
    /^ +90% / { p90 = ms($2) }
    /^ +99% / { p99 = ms($2) }
    / requests in / { reqs = $1 }
    /^Requests\/sec:/ { rps = $2 }
    /Non-2xx or 3xx responses:/ { non2xx = $NF }
    /Socket errors:/ { gsub(",", ""); serr = $4 + $6 + $8 + $10; timeouts = $10 }
    /^WRITE_2XX / { w2xx = $2; write = 1 }
    /^WRITE_NON2XX / { wbad = $2 }
    /^WRITE_STATUS / { st = st (st == "" ? "" : ",") "\"" $2 "\":" $3 }
    END {
      printf "{\"requests\":%d,\"rps\":%.1f,\"avg_ms\":%.3f,\"p50_ms\":%.3f,\"p75_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f,\"errors_4xx_5xx\":%d,\"socket_errors\":%d,\"timeouts\":%d",
        reqs, rps, avg, p50, p75, p90, p99, max, non2xx, serr, timeouts
      if (write) printf ",\"responses_2xx\":%d,\"responses_non2xx\":%d,\"non2xx_by_status\":{%s}", w2xx, wbad, st
      printf "}\n"
    }' "$1"
}

# CPU accounting, in clock ticks: the machine's busy and total ticks (all cores), and the user +
# system ticks of given processes. It tells how much of the machine the server, wrk, PostgreSQL
# and everything else (other people's work on a shared machine) used during a measured run.
CLK_TCK=$(getconf CLK_TCK)
machine_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9; exit }' /proc/stat; }
proc_ticks() {
  local sum=0 p t
  for p in "$@"; do
    t=$(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null | awk '{ print $12 + $13 }') || t=0
    sum=$((sum + ${t:-0}))
  done
  echo "$sum"
}
db_pids() { # the throwaway PostgreSQL's postmaster and its children
  [ -n "$PG_RUNNING" ] || return 0
  local pm
  pm=$(head -1 "$PG_DIR/data/postmaster.pid")
  echo "$pm"
  pgrep -P "$pm" || true
}

# bench NAME URL DURATION [LUA [HEADER]]: a warm-up, then the measured run; prints its JSON.
bench() {
  local name=$1 url=$2 duration=$3 script=${4-} extra=${5-}
  local args=(-t"$THREADS" -c"$CONNS" --latency --timeout "$WRK_TIMEOUT" -H "Authorization: Bearer $TOKEN")
  [ -n "$script" ] && args+=(-s "$script")
  [ -n "$extra" ] && args+=(-H "$extra")
  wrk "${args[@]}" -d"${WARMUP}s" "$url" >"$WORK/wrk-$BACKEND-$name-warmup.txt"
  local dbp busy0 total0 busy1 total1 s0 s1 d0 d1 wu ws TIMEFORMAT='%U %S'
  dbp=$(db_pids | tr '\n' ' ')
  read -r busy0 total0 < <(machine_ticks)
  s0=$(proc_ticks "$SERVER_PID")
  # shellcheck disable=SC2086
  d0=$(proc_ticks $dbp)
  { time wrk "${args[@]}" -d"${duration}s" "$url" >"$WORK/wrk-$BACKEND-$name.txt" 2>"$WORK/wrk.err"; } 2>"$WORK/wrk.time"
  read -r busy1 total1 < <(machine_ticks)
  s1=$(proc_ticks "$SERVER_PID")
  # shellcheck disable=SC2086
  d1=$(proc_ticks $dbp)
  read -r wu ws < <(tail -1 "$WORK/wrk.time")
  local cpu json warm
  cpu=$(awk -v b=$((busy1 - busy0)) -v t=$((total1 - total0)) -v s=$((s1 - s0)) -v d=$((d1 - d0)) \
    -v w="$wu $ws" -v hz="$CLK_TCK" 'BEGIN {
      split(w, x, " "); wt = (x[1] + x[2]) * hz; if (t <= 0) t = 1
      o = b - s - d - wt; if (o < 0) o = 0
      printf "{\"machine_busy_pct\":%.1f,\"server_pct\":%.1f,\"wrk_pct\":%.1f,\"postgres_pct\":%.1f,\"other_pct\":%.1f,\"server_cpu_s\":%.2f,\"postgres_cpu_s\":%.2f}",
        100 * b / t, 100 * s / t, 100 * wt / t, 100 * d / t, 100 * o / t, s / hz, d / hz }')
  json=$(wrk_json "$WORK/wrk-$BACKEND-$name.txt")
  warm=$(wrk_json "$WORK/wrk-$BACKEND-$name-warmup.txt")
  jq -c --argjson warm "$warm" --argjson cpu "$cpu" --argjson hwm "$(vm_kb VmHWM)" \
    '. + {cpu_share_of_machine: $cpu, server_vmhwm_kb_after: $hwm,
      server_cpu_us_per_request: (if .requests > 0 then ($cpu.server_cpu_s * 1e6 / .requests | round) else null end),
      postgres_cpu_us_per_request: (if .requests > 0 then ($cpu.postgres_cpu_s * 1e6 / .requests | round) else null end),
      warmup: ({requests: $warm.requests, errors_4xx_5xx: $warm.errors_4xx_5xx,
      socket_errors: $warm.socket_errors} + (if $warm.responses_non2xx != null
      then {responses_non2xx: $warm.responses_non2xx} else {} end))}' <<<"$json"
}

vm_kb() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$SERVER_PID/status"; }


start_pg() {
  PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  PG_DIR=$(mktemp -d /tmp/beskplan-bench-pg.XXXXXX)
  as_root && chown postgres:postgres "$PG_DIR"
  PG_PORT=$(free_port 55500)
  run_pg "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 >/dev/null
  run_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w \
    -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1" start >/dev/null
  PG_RUNNING=1
  psql -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -c 'create database beskplan_bench'
  PG_VERSION=$("$PG_BIN/postgres" --version | awk '{ print $3 }')
  log "postgres: $PG_VERSION throwaway cluster on 127.0.0.1:$PG_PORT"
}

