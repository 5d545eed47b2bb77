#!/usr/bin/env bash
# HTTP benchmark of beskplan on SQLite and PostgreSQL, on loopback only. One command:
#
#   bash bench/run.sh
#
# Not part of `cargo test`. It installs what it lacks (wrk, PostgreSQL, curl, jq; Debian, as root),
# builds the release binary (unless BESKPLAN_BIN names one), then for each backend starts the
# binary with the demo data on a free loopback port, drives it with wrk, counts SQL statements per
# request through /metrics, and reads the server's peak RSS. It writes the raw results to
# bench/results/<UTC timestamp>-<short sha>.json and the summary to docs/performance.md.
#
# Knobs (environment): BESKPLAN_BIN, BENCH_BACKENDS ("sqlite postgres"), BENCH_THREADS (2),
# BENCH_CONNECTIONS (32), BENCH_DURATION (10 s per read/write run), BENCH_WARMUP (2 s),
# BENCH_SCALE_DURATION (5 s per scaling run), BENCH_SEQUENTIAL (200 requests per SQL count),
# BENCH_SIZES ("10 100 1000" goals), BENCH_NO_DOCS=1 (do not rewrite docs/performance.md).
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/.."
ROOT=$PWD
STARTED_AT=$(date +%s)

THREADS=${BENCH_THREADS:-2}
CONNS=${BENCH_CONNECTIONS:-32}
DURATION=${BENCH_DURATION:-10}
WARMUP=${BENCH_WARMUP:-2}
SCALE_DURATION=${BENCH_SCALE_DURATION:-5}
SEQ=${BENCH_SEQUENTIAL:-200}
SIZES=${BENCH_SIZES:-"10 100 1000"}
BACKENDS=${BENCH_BACKENDS:-"sqlite postgres"}
WRK_TIMEOUT=5s
JWT_SECRET="beskplan-benchmark-only-secret-$(date +%s%N)"
ADMIN_PASSWORD=demo-admin-password

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

# bench NAME URL DURATION [LUA]: a warm-up, then the measured run; prints its JSON.
bench() {
  local name=$1 url=$2 duration=$3 script=${4-}
  local args=(-t"$THREADS" -c"$CONNS" --latency --timeout "$WRK_TIMEOUT" -H "Authorization: Bearer $TOKEN")
  [ -n "$script" ] && args+=(-s "$script")
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

# ---------------------------------------------------------------------------------------------
# 2-5. One backend
# ---------------------------------------------------------------------------------------------
run_backend() { # backend database_url
  BACKEND=$1
  local url=$2
  start_server "$BACKEND" "$url"
  local hwm_start hwm_login
  hwm_start=$(vm_kb VmHWM)
  login
  hwm_login=$(vm_kb VmHWM)

  # The demo data: an adopted plan (Allerød, 201) and one with measurements (Jammerbugt, 849).
  local list p201 v201 p849
  list=$(api GET '/api/v1/plans?municipality=201')
  p201=$(jq -er '.items[0].id' <<<"$list")
  v201=$(jq -er '.items[0].adopted_version' <<<"$list")
  list=$(api GET '/api/v1/plans?municipality=849')
  p849=$(jq -er '.items[0].id' <<<"$list")

  # A draft plan of our own for the writes.
  local draft gid rid
  api POST /api/v1/municipalities '{"code":"999","name":"Bench"}' >/dev/null
  draft=$(api POST /api/v1/plans '{"municipality":"999","year":2030,"title":"Bench"}' | jq -er .id)
  gid=$(api POST "/api/v1/plans/$draft/goals" '{"title":"Bench","kind":"local"}' | jq -er .id)
  rid=$(api POST "/api/v1/goals/$gid/requirements" \
    '{"statement":"s","indicator":"i","unit":"count","comparator":"at_most","target":{"value":5,"due":"2030-12-31"}}' |
    jq -er .id)

  local lua=$ROOT/bench/write_mix.lua name path json healthz_rps sql
  local -a names=(healthz version_document plan_list follow_up)
  local -a paths=("/healthz" "/api/v1/plans/$p201/versions/$v201" "/api/v1/plans"
    "/api/v1/plans/$p849/follow-up?as_of=2015-09-30")
  for i in "${!names[@]}"; do
    name=${names[$i]}
    path=${paths[$i]}
    log "$BACKEND: wrk $name ($path)"
    json=$(bench "$name" "$BASE$path" "$DURATION")
    [ "$name" = healthz ] && healthz_rps=$(jq -r .rps <<<"$json")
    repeat_get "$path" "$SEQ" >"$WORK/seq.in"
    sql=$(sql_per_request GET "$WORK/seq.in")
    record --arg b "$BACKEND" --arg n "$name" --arg p "$path" --argjson w "$json" --argjson sql "$sql" \
      --argjson h "$healthz_rps" --argjson bytes "$(curl -s -o /dev/null -w '%{size_download}' \
      -H "Authorization: Bearer $TOKEN" "$BASE$path")" \
      '{backend: $b, section: "read", name: $n, method: "GET", path: $p, response_bytes: $bytes,
        sql_per_request: $sql, ratio_to_healthz: (($w.rps / $h * 1000 | round) / 1000)} + $w'
  done

  log "$BACKEND: wrk write mix (goal, requirement patch, measurement) on draft plan $draft"
  json=$(BENCH_TOKEN=$TOKEN BENCH_DRAFT_PLAN=$draft BENCH_REQUIREMENT=$rid \
    bench write_mix "$BASE/api/v1/plans/$draft/goals" "$DURATION" "$lua")
  record --arg b "$BACKEND" --argjson w "$json" \
    '{backend: $b, section: "write", name: "write_mix",
      path: "POST /plans/{draft}/goals | PATCH /requirements/{rid} | POST /requirements/{rid}/measurements"} + $w'
  local hwm_main
  hwm_main=$(vm_kb VmHWM)

  # 5. Scaling: plans with 10, 100, 1000 goals, one requirement each, frozen as version 1.
  local size year=2030 plan goals_in reqs_in created vpath fpath vbytes fbytes jv jf sv sf sp sg
  for size in $SIZES; do
    year=$((year + 1))
    log "$BACKEND: scaling, creating a plan with $size goals"
    plan=$(api POST /api/v1/plans "{\"municipality\":\"999\",\"year\":$year,\"title\":\"Bench $size\"}" | jq -er .id)
    goals_in=$WORK/goals.in
    for ((g = 1; g <= size; g++)); do
      printf '/api/v1/plans/%s/goals\t{"title":"Goal %d","kind":"local"}\n' "$plan" "$g"
    done >"$goals_in"
    bulk POST "$goals_in" >"$WORK/goals.out"
    created=$(awk -F'\t' '$1 ~ /^2/' "$WORK/goals.out" | wc -l)
    [ "$created" = "$size" ] || die "created $created of $size goals: $(awk -F'\t' '$1 !~ /^2/' "$WORK/goals.out" | head -1)"
    reqs_in=$WORK/reqs.in
    cut -f2- "$WORK/goals.out" | jq -r .id | while read -r g; do
      printf '/api/v1/goals/%s/requirements\t{"statement":"Requirement","indicator":"i","unit":"count","comparator":"at_most","target":{"value":5,"due":"2030-12-31"}}\n' "$g"
    done >"$reqs_in"
    bulk POST "$reqs_in" >"$WORK/reqs.out"
    created=$(awk -F'\t' '$1 ~ /^2/' "$WORK/reqs.out" | wc -l)
    [ "$created" = "$size" ] || die "created $created of $size requirements: $(awk -F'\t' '$1 !~ /^2/' "$WORK/reqs.out" | head -1)"
    local one_req
    one_req=$(head -1 "$WORK/reqs.out" | cut -f2- | jq -r .id)
    api POST "/api/v1/plans/$plan/versions" '{"label":"bench"}' >/dev/null

    vpath=/api/v1/plans/$plan/versions/1
    fpath="/api/v1/plans/$plan/follow-up?as_of=2030-06-30"
    vbytes=$(curl -s -o /dev/null -w '%{size_download}' -H "Authorization: Bearer $TOKEN" "$BASE$vpath")
    fbytes=$(curl -s -o /dev/null -w '%{size_download}' -H "Authorization: Bearer $TOKEN" "$BASE$fpath")
    repeat_get "$vpath" "$SEQ" >"$WORK/seq.in"
    sv=$(sql_per_request GET "$WORK/seq.in")
    repeat_get "$fpath" "$SEQ" >"$WORK/seq.in"
    sf=$(sql_per_request GET "$WORK/seq.in")
    log "$BACKEND: scaling $size goals: wrk version document ($vbytes bytes) and follow-up report"
    jv=$(bench "version_$size" "$BASE$vpath" "$SCALE_DURATION")
    jf=$(bench "follow_up_$size" "$BASE$fpath" "$SCALE_DURATION")
    # Writes last (a new goal changes the plan's size).
    for ((g = 1; g <= SEQ; g++)); do printf '/api/v1/requirements/%s\t{"statement":"Bench %d"}\n' "$one_req" "$g"; done >"$WORK/seq.in"
    sp=$(sql_per_request PATCH "$WORK/seq.in" application/merge-patch+json 'If-Match: *')
    for ((g = 1; g <= SEQ; g++)); do printf '/api/v1/plans/%s/goals\t{"title":"Bench","kind":"local"}\n' "$plan"; done >"$WORK/seq.in"
    sg=$(sql_per_request POST "$WORK/seq.in")
    record --arg b "$BACKEND" --argjson size "$size" --argjson vbytes "$vbytes" --argjson fbytes "$fbytes" --argjson jv "$jv" \
      --argjson jf "$jf" --argjson sv "$sv" --argjson sf "$sf" --argjson sp "$sp" --argjson sg "$sg" \
      '{backend: $b, section: "scaling", goals: $size, requirements: $size, version_bytes: $vbytes, follow_up_bytes: $fbytes,
        version_document: $jv, follow_up: $jf,
        sql_per_request: {version_document: $sv, follow_up: $sf, patch_requirement: $sp, create_goal: $sg}}'
  done

  record --arg b "$BACKEND" --argjson hwm "$(vm_kb VmHWM)" --argjson rss "$(vm_kb VmRSS)" \
    --argjson main "$hwm_main" --argjson start "$hwm_start" --argjson login "$hwm_login" \
    --argjson threads "$(vm_kb Threads)" \
    '{backend: $b, section: "memory", vmhwm_kb: $hwm, vmrss_kb_at_end: $rss, threads_at_end: $threads,
      vmhwm_kb_when_ready: $start, vmhwm_kb_after_login: $login, vmhwm_kb_before_scaling: $main}'
  log "$BACKEND: peak RSS $(vm_kb VmHWM) kB"
  stop_server
}

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

loadavg() { jq -cn --arg at "$1" --arg l "$(cut -d' ' -f1-3 /proc/loadavg)" '{at: $at, loadavg_1_5_15: $l}' >>"$WORK/loadavg.jsonl"; }
PG_VERSION=""
for backend in $BACKENDS; do
  loadavg "before $backend"
  case $backend in
    sqlite) run_backend sqlite "$WORK/bench.sqlite3" ;;
    postgres)
      start_pg
      run_backend postgres "postgres://postgres@127.0.0.1:$PG_PORT/beskplan_bench"
      stop_pg
      ;;
    *) die "unknown backend $backend" ;;
  esac
done

loadavg "end"

# ---------------------------------------------------------------------------------------------
# 6. Results: raw JSON and docs/performance.md
# ---------------------------------------------------------------------------------------------
ELAPSED=$(($(date +%s) - STARTED_AT))
mkdir -p bench/results
RESULT=bench/results/$STAMP-$COMMIT.json
jq -s \
  --arg commit "$COMMIT" --argjson dirty "$DIRTY" --argjson dfiles "$DIRTY_FILES" --arg ddiff "$DIRTY_DIFF" \
  --arg date "$DATE_ISO" --argjson loads "$(jq -cs . "$WORK/loadavg.jsonl")" \
  --argjson nproc "$(nproc)" --argjson mem "$(awk '/^MemTotal:/ { print int($2 / 1024) }' /proc/meminfo)" \
  --arg cpu "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)" --arg kernel "$(uname -r)" \
  --arg wrk "$(wrk -v 2>&1 | head -1 | awk '{ print $1, $2 }')" --arg pg "$PG_VERSION" --arg built "$BUILT" \
  --argjson threads "$THREADS" --argjson conns "$CONNS" --argjson dur "$DURATION" --argjson warm "$WARMUP" \
  --argjson sdur "$SCALE_DURATION" --argjson seq "$SEQ" --argjson elapsed "$ELAPSED" '
  def by($b; $s): map(select(.backend == $b and .section == $s));
  (reduce .[].backend as $b ([]; if any(.[]; . == $b) then . else . + [$b] end)) as $backends
  | {
      commit: $commit, worktree_dirty: $dirty,
      worktree_changes: (if $dirty then {files: $dfiles, diff_sha256_12: $ddiff} else null end),
      date: $date, command: "bash bench/run.sh", loadavg: $loads,
      machine: {nproc: $nproc, memory_mb: $mem, cpu: $cpu, kernel: $kernel},
      tools: {wrk: $wrk, postgresql: $pg, binary: $built},
      settings: {wrk_threads: $threads, connections: $conns, duration_s: $dur, warmup_s: $warm,
                 scale_duration_s: $sdur, sequential_requests_per_sql_count: $seq},
      targets: {version_document_ratio_min: 0.6, read_p99_ms_max: 10, rss_mb_max: 64},
      elapsed_s: $elapsed,
      backends: ([$backends[] as $b | {($b): {
        reads: (by($b; "read") | map(del(.backend, .section))),
        write_mix: (by($b; "write") | map(del(.backend, .section)) | .[0]),
        scaling: (by($b; "scaling") | map(del(.backend, .section))),
        memory: (by($b; "memory") | map(del(.backend, .section)) | .[0])
      }}] | add)
    }
  | .backends |= with_entries(.value |= (. + {targets: {
        version_document_ratio: (.reads[] | select(.name == "version_document") | .ratio_to_healthz),
        version_document_ratio_met: ((.reads[] | select(.name == "version_document") | .ratio_to_healthz) >= 0.6),
        read_p99_max_ms: ([.reads[] | select(.name != "healthz") | .p99_ms] | max),
        read_p99_met: ([.reads[] | select(.name != "healthz") | .p99_ms] | all(. < 10)),
        rss_mb: (.memory.vmhwm_kb / 1024 * 10 | round / 10),
        rss_met: (.memory.vmhwm_kb < 65536),
        write_non2xx: (.write_mix.responses_non2xx + (.write_mix.warmup.responses_non2xx // 0)),
        sql_per_request_constant: ([.scaling[].sql_per_request | to_entries[]] | group_by(.key)
          | all((map(.value) | max) - (map(.value) | min) < 0.5)),
        max_other_cpu_pct: ([.reads[], .write_mix, (.scaling[] | .version_document, .follow_up)]
          | map(.cpu_share_of_machine.other_pct) | max)
      }}))
  ' "$RECORDS" >"$RESULT.tmp"
mv "$RESULT.tmp" "$RESULT"
log "wrote $RESULT"

if [ "${BENCH_NO_DOCS:-}" != 1 ]; then
  bash "$ROOT/bench/report.sh" "$RESULT" >"$WORK/performance.md"
  cp "$WORK/performance.md" docs/performance.md
  log "wrote docs/performance.md"
fi
log "done in $(($(date +%s) - STARTED_AT)) s"
