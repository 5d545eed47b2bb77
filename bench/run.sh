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

# shellcheck source=bench/common.sh
source "$ROOT/bench/common.sh"

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

  local lua=$ROOT/bench/write_mix.lua name path coding accept json healthz_rps sql
  # The version document also as a client that accepts gzip or br asks for it (served from the
  # compressed bytes kept with the cached version); response_bytes are the bytes on the wire.
  local -a names=(healthz version_document version_document_gzip version_document_br plan_list follow_up)
  local -a paths=("/healthz" "/api/v1/plans/$p201/versions/$v201" "/api/v1/plans/$p201/versions/$v201"
    "/api/v1/plans/$p201/versions/$v201" "/api/v1/plans" "/api/v1/plans/$p849/follow-up?as_of=2015-09-30")
  local -a codings=("" "" gzip br "" "")
  for i in "${!names[@]}"; do
    name=${names[$i]}
    path=${paths[$i]}
    coding=${codings[$i]}
    accept=${coding:+Accept-Encoding: $coding}
    log "$BACKEND: wrk $name ($path${coding:+, $accept})"
    json=$(bench "$name" "$BASE$path" "$DURATION" "" "$accept")
    [ "$name" = healthz ] && healthz_rps=$(jq -r .rps <<<"$json")
    repeat_get "$path" "$SEQ" >"$WORK/seq.in"
    # Counted without Accept-Encoding (bulk reads the bodies as text); the coding changes no SQL.
    sql=$(sql_per_request GET "$WORK/seq.in")
    record --arg b "$BACKEND" --arg n "$name" --arg p "$path" --arg ae "$coding" --argjson w "$json" \
      --argjson sql "$sql" --argjson h "$healthz_rps" --argjson bytes "$(wire_bytes "$path" "$accept")" \
      --arg ce "$(content_encoding "$path" "$accept")" \
      '{backend: $b, section: "read", name: $n, method: "GET", path: $p, response_bytes: $bytes,
        sql_per_request: $sql, ratio_to_healthz: (($w.rps / $h * 1000 | round) / 1000)}
        + (if $ae == "" then {} else {accept_encoding: $ae, content_encoding: $ce} end) + $w'
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
  local size year=2030 plan goals_in reqs_in created vpath fpath vbytes vbytes_br fbytes jv jvb jf sv sf sp sg
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
    vbytes=$(wire_bytes "$vpath")
    vbytes_br=$(wire_bytes "$vpath" "Accept-Encoding: br")
    fbytes=$(wire_bytes "$fpath")
    repeat_get "$vpath" "$SEQ" >"$WORK/seq.in"
    sv=$(sql_per_request GET "$WORK/seq.in")
    repeat_get "$fpath" "$SEQ" >"$WORK/seq.in"
    sf=$(sql_per_request GET "$WORK/seq.in")
    log "$BACKEND: scaling $size goals: wrk version document ($vbytes bytes) and follow-up report"
    jv=$(bench "version_$size" "$BASE$vpath" "$SCALE_DURATION")
    jvb=$(bench "version_br_$size" "$BASE$vpath" "$SCALE_DURATION" "" "Accept-Encoding: br")
    jf=$(bench "follow_up_$size" "$BASE$fpath" "$SCALE_DURATION")
    # Writes last (a new goal changes the plan's size).
    for ((g = 1; g <= SEQ; g++)); do printf '/api/v1/requirements/%s\t{"statement":"Bench %d"}\n' "$one_req" "$g"; done >"$WORK/seq.in"
    sp=$(sql_per_request PATCH "$WORK/seq.in" application/merge-patch+json 'If-Match: *')
    for ((g = 1; g <= SEQ; g++)); do printf '/api/v1/plans/%s/goals\t{"title":"Bench","kind":"local"}\n' "$plan"; done >"$WORK/seq.in"
    sg=$(sql_per_request POST "$WORK/seq.in")
    record --arg b "$BACKEND" --argjson size "$size" --argjson vbytes "$vbytes" --argjson fbytes "$fbytes" --argjson jv "$jv" \
      --argjson vbytes_br "$vbytes_br" --argjson jvb "$jvb" \
      --argjson jf "$jf" --argjson sv "$sv" --argjson sf "$sf" --argjson sp "$sp" --argjson sg "$sg" \
      '{backend: $b, section: "scaling", goals: $size, requirements: $size, version_bytes: $vbytes,
        version_bytes_br: $vbytes_br, follow_up_bytes: $fbytes, version_document: $jv, version_document_br: $jvb, follow_up: $jf,
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
        version_document_br_ratio: ([.reads[] | select(.name == "version_document_br") | .ratio_to_healthz] | first),
        version_document_gzip_ratio: ([.reads[] | select(.name == "version_document_gzip") | .ratio_to_healthz] | first),
        read_p99_max_ms: ([.reads[] | select(.name != "healthz") | .p99_ms] | max),
        read_p99_met: ([.reads[] | select(.name != "healthz") | .p99_ms] | all(. < 10)),
        rss_mb: (.memory.vmhwm_kb / 1024 * 10 | round / 10),
        rss_met: (.memory.vmhwm_kb < 65536),
        write_non2xx: (.write_mix.responses_non2xx + (.write_mix.warmup.responses_non2xx // 0)),
        sql_per_request_constant: ([.scaling[].sql_per_request | to_entries[]] | group_by(.key)
          | all((map(.value) | max) - (map(.value) | min) < 0.5)),
        max_other_cpu_pct: ([.reads[], .write_mix, (.scaling[] | .version_document, .version_document_br, .follow_up)]
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
