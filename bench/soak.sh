#!/usr/bin/env bash
# Soak: does the service stay the same under hours of load? One command:
#
#   bash bench/soak.sh
#
# Not part of `cargo test`. Builds the release binary (unless BESKPLAN_BIN names one), starts it
# with the demo data on a loopback port, and drives a mix of reads and writes (bench/soak_mix.lua:
# version documents, the plan list, a follow-up report whose measurements keep growing,
# measurements, requirement and goal PATCHes) with wrk for SOAK_DURATION seconds in windows of
# SOAK_WINDOW seconds. After each window it records throughput, latency percentiles, non-2xx
# answers, the server's RSS, and on SQLite the size of the database and its write-ahead log.
# At the end a burst of logins shows what Argon2's 19 MiB per check leaves behind.
#
# The verdict compares the run with itself (ratios, so the machine's speed cancels out): the
# median p99 and throughput of the last third of the windows against the first third, RSS at the
# end against RSS after the first third, the largest WAL. Results: bench/results/<stamp>-<sha>-soak.json
# and docs/soak.md.
#
# Knobs: BESKPLAN_BIN, SOAK_BACKENDS ("sqlite"; "sqlite postgres" for both), SOAK_DURATION (600),
# SOAK_WINDOW (30), BENCH_THREADS (2), BENCH_CONNECTIONS (32), SOAK_LOGINS (500),
# BENCH_NO_DOCS=1 (do not rewrite docs/soak.md).
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/.."
ROOT=$PWD
STARTED_AT=$(date +%s)

THREADS=${BENCH_THREADS:-2}
CONNS=${BENCH_CONNECTIONS:-32}
DURATION=${SOAK_DURATION:-600}
WINDOW=${SOAK_WINDOW:-30}
LOGINS=${SOAK_LOGINS:-500}
BACKENDS=${SOAK_BACKENDS:-sqlite}
WRK_TIMEOUT=5s
JWT_SECRET="beskplan-benchmark-only-secret-$(date +%s%N)"
ADMIN_PASSWORD=demo-admin-password
# What "flat" means, as ratios within the run.
P99_RATIO_MAX=1.5
RPS_RATIO_MIN=0.67
RSS_RATIO_MAX=1.2
WAL_MB_MAX=64

# shellcheck source=bench/common.sh
source "$ROOT/bench/common.sh"

WINDOWS=$((DURATION / WINDOW))
[ "$WINDOWS" -ge 3 ] || die "SOAK_DURATION must be at least three windows of SOAK_WINDOW seconds"

file_bytes() { stat -c %s "$1" 2>/dev/null || echo 0; }

# logins N: N token requests, 4 at a time (more in flight for one username would meet the login
# limiter, which counts attempts before the check); prints {"<status>": count, ...}.
logins() {
  seq 1 "$1" | xargs -P 4 -I{} curl -s -o /dev/null -w '%{http_code}\n' "$BASE/api/v1/auth/token" \
    --data-urlencode grant_type=password --data-urlencode username=admin \
    --data-urlencode "password=$ADMIN_PASSWORD" | sort | uniq -c | jq -Rsc '
      [split("\n")[] | select(length > 0) | capture("(?<n>[0-9]+) (?<s>[0-9]+)") | {(.s): (.n | tonumber)}] | add // {}'
}

soak_backend() { # backend database_url [sqlite file]
  BACKEND=$1
  local url=$2 db_file=${3-}
  start_server "$BACKEND" "$url"
  login

  local list p201 v201 draft gid rid
  list=$(api GET '/api/v1/plans?municipality=201')
  p201=$(jq -er '.items[0].id' <<<"$list")
  v201=$(jq -er '.items[0].adopted_version' <<<"$list")
  api POST /api/v1/municipalities '{"code":"998","name":"Soak"}' >/dev/null
  draft=$(api POST /api/v1/plans '{"municipality":"998","year":2030,"title":"Soak"}' | jq -er .id)
  gid=$(api POST "/api/v1/plans/$draft/goals" '{"title":"Soak","kind":"local"}' | jq -er .id)
  rid=$(api POST "/api/v1/goals/$gid/requirements" \
    '{"statement":"s","indicator":"i","unit":"count","comparator":"at_most","target":{"value":50,"due":"2030-12-31"}}' |
    jq -er .id)

  # The size of a real plan: twenty goals with a result requirement each (the mix measures the first).
  local i g
  for ((i = 2; i <= 20; i++)); do
    g=$(api POST "/api/v1/plans/$draft/goals" "{\"title\":\"Soak $i\",\"kind\":\"local\"}" | jq -er .id)
    api POST "/api/v1/goals/$g/requirements" \
      '{"statement":"s","indicator":"i","unit":"count","comparator":"at_least","target":{"value":5,"due":"2030-12-31"}}' >/dev/null
  done

  local w json wal walmax=0
  for ((w = 1; w <= WINDOWS; w++)); do
    BENCH_TOKEN=$TOKEN BENCH_DRAFT_PLAN=$draft BENCH_GOAL=$gid BENCH_REQUIREMENT=$rid \
      BENCH_VERSION_PATH="/api/v1/plans/$p201/versions/$v201" \
      wrk -t"$THREADS" -c"$CONNS" -d"${WINDOW}s" --latency --timeout "$WRK_TIMEOUT" \
      -s "$ROOT/bench/soak_mix.lua" "$BASE/" >"$WORK/soak-$BACKEND-$w.txt"
    json=$(wrk_json "$WORK/soak-$BACKEND-$w.txt")
    wal=0
    [ -n "$db_file" ] && wal=$(file_bytes "$db_file-wal")
    [ "$wal" -gt "$walmax" ] && walmax=$wal
    record --arg b "$BACKEND" --argjson w "$w" --argjson at $((w * WINDOW)) --argjson wrk "$json" \
      --argjson rss "$(vm_kb VmRSS)" --argjson hwm "$(vm_kb VmHWM)" --argjson threads "$(vm_kb Threads)" \
      --argjson wal "$wal" --argjson db "$([ -n "$db_file" ] && file_bytes "$db_file" || echo 0)" \
      '{backend: $b, section: "window", window: $w, end_s: $at, rss_kb: $rss, vmhwm_kb: $hwm, threads: $threads,
        wal_bytes: $wal, database_bytes: $db} + $wrk'
    log "$BACKEND: window $w/$WINDOWS: $(jq -r '"\(.rps) req/s, p99 \(.p99_ms) ms, non-2xx \(.responses_non2xx)"' <<<"$json"), RSS $(($(vm_kb VmRSS) / 1024)) MB, WAL $((wal / 1024 / 1024)) MB"
  done

  # Memory after a burst of logins (each password check takes 19 MiB for a moment).
  local before after_burst hwm_burst statuses
  before=$(vm_kb VmRSS)
  log "$BACKEND: $LOGINS logins, 4 at a time"
  statuses=$(logins "$LOGINS")
  hwm_burst=$(vm_kb VmHWM)
  sleep 2
  after_burst=$(vm_kb VmRSS)
  record --arg b "$BACKEND" --argjson n "$LOGINS" --argjson st "$statuses" --argjson before "$before" \
    --argjson after "$after_burst" --argjson hwm "$hwm_burst" --argjson walmax "$walmax" \
    '{backend: $b, section: "logins", logins: $n, answered_200: ($st["200"] // 0), by_status: $st, rss_kb_before: $before,
      rss_kb_after: $after, vmhwm_kb_after: $hwm, wal_bytes_max: $walmax}'
  log "$BACKEND: logins by status $statuses; RSS $((before / 1024)) → $((after_burst / 1024)) MB"
  stop_server
}

for backend in $BACKENDS; do
  case $backend in
    sqlite) soak_backend sqlite "$WORK/soak.sqlite3" "$WORK/soak.sqlite3" ;;
    postgres)
      start_pg
      soak_backend postgres "postgres://postgres@127.0.0.1:$PG_PORT/beskplan_bench"
      stop_pg
      ;;
    *) die "unknown backend $backend" ;;
  esac
done

ELAPSED=$(($(date +%s) - STARTED_AT))
mkdir -p bench/results
RESULT=bench/results/$STAMP-$COMMIT-soak.json
jq -s \
  --arg commit "$COMMIT" --argjson dirty "$DIRTY" --arg date "$DATE_ISO" --arg built "$BUILT" \
  --argjson nproc "$(nproc)" --arg cpu "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)" \
  --argjson threads "$THREADS" --argjson conns "$CONNS" --argjson duration "$DURATION" --argjson window "$WINDOW" \
  --argjson elapsed "$ELAPSED" --argjson p99max "$P99_RATIO_MAX" --argjson rpsmin "$RPS_RATIO_MIN" \
  --argjson rssmax "$RSS_RATIO_MAX" --argjson walmax "$WAL_MB_MAX" '
  def median: sort | if length == 0 then null else .[(length / 2 | floor)] end;
  def r3: . * 1000 | round / 1000;
  (reduce .[].backend as $b ([]; if any(.[]; . == $b) then . else . + [$b] end)) as $backends
  | . as $all
  | {
      commit: $commit, worktree_dirty: $dirty, date: $date, command: "bash bench/soak.sh",
      machine: {nproc: $nproc, cpu: $cpu}, binary: $built,
      settings: {wrk_threads: $threads, connections: $conns, duration_s: $duration, window_s: $window},
      targets: {p99_ratio_max: $p99max, rps_ratio_min: $rpsmin, rss_ratio_max: $rssmax, wal_mb_max: $walmax},
      elapsed_s: $elapsed,
      backends: ([$backends[] as $b
        | ($all | map(select(.backend == $b and .section == "window")) | map(del(.backend, .section))) as $ws
        | ($all | map(select(.backend == $b and .section == "logins")) | .[0] | del(.backend, .section)) as $login
        | ($ws | length) as $n | (($n / 3) | floor) as $third
        | ($ws[:$third]) as $first | ($ws[$n - $third:]) as $last
        | {($b): {
            windows: $ws,
            logins: $login,
            verdict: {
              requests: ($ws | map(.requests) | add),
              non2xx: ($ws | map(.responses_non2xx) | add),
              p99_ms_first_third: ($first | map(.p99_ms) | median),
              p99_ms_last_third: ($last | map(.p99_ms) | median),
              rps_first_third: ($first | map(.rps) | median),
              rps_last_third: ($last | map(.rps) | median),
              rss_mb_after_first_third: ($first[-1].rss_kb / 1024 | r3),
              rss_mb_at_end: ($ws[-1].rss_kb / 1024 | r3),
              wal_mb_max: ($login.wal_bytes_max / 1048576 | r3),
              database_mb_at_end: ($ws[-1].database_bytes / 1048576 | r3)
            }
          }}] | add)
    }
  | .backends |= with_entries(.value.verdict |= (. + {
      p99_ratio: (.p99_ms_last_third / .p99_ms_first_third | r3),
      rps_ratio: (.rps_last_third / .rps_first_third | r3),
      rss_ratio: (.rss_mb_at_end / .rss_mb_after_first_third | r3)
    } | . + {
      flat: (.p99_ratio <= $p99max and .rps_ratio >= $rpsmin and .rss_ratio <= $rssmax
             and .wal_mb_max <= $walmax and .non2xx == 0)
    }))
  ' "$RECORDS" >"$RESULT.tmp"
mv "$RESULT.tmp" "$RESULT"
log "wrote $RESULT"

if [ "${BENCH_NO_DOCS:-}" != 1 ]; then
  jq -r --arg file "$RESULT" '
    def bname: {sqlite: "SQLite", postgres: "PostgreSQL"}[.] // .;
    def yes: if . then "yes" else "**no**" end;
    . as $r
    | "# Soak",
      "",
      "Generated by `bash bench/soak.sh` from [`\($file)`](../\($file)); rerun it rather than editing by hand.",
      "",
      "- **Commit:** `\($r.commit)`" + (if $r.worktree_dirty then " (plus uncommitted changes)" else "" end) + ", \($r.date), \($r.machine.nproc) CPUs (\($r.machine.cpu)); binary: \($r.binary)",
      "- **Load:** wrk, \($r.settings.wrk_threads) threads, \($r.settings.connections) connections, \($r.settings.duration_s) s in windows of \($r.settings.window_s) s; `bench/soak_mix.lua` (4/10 version document, 1/10 plan list, 2/10 follow-up report of a plan whose measurements keep growing, 1/10 each: new measurement, requirement PATCH, goal PATCH); release binary with the demo data.",
      "- **Flat means** (the last third of the windows against the first): p99 ratio ≤ \($r.targets.p99_ratio_max), throughput ratio ≥ \($r.targets.rps_ratio_min), RSS at the end ≤ \($r.targets.rss_ratio_max) × RSS after the first third, WAL ≤ \($r.targets.wal_mb_max) MB, no non-2xx.",
      "",
      ($r.backends | to_entries[] | .key as $b | .value as $v
        | "## \($b | bname)",
          "",
          "| verdict | first third | last third | ratio |",
          "|---|---|---|---|",
          "| p99 (median of windows) | \($v.verdict.p99_ms_first_third) ms | \($v.verdict.p99_ms_last_third) ms | \($v.verdict.p99_ratio) |",
          "| throughput (median of windows) | \($v.verdict.rps_first_third) req/s | \($v.verdict.rps_last_third) req/s | \($v.verdict.rps_ratio) |",
          "| RSS | \($v.verdict.rss_mb_after_first_third) MB | \($v.verdict.rss_mb_at_end) MB | \($v.verdict.rss_ratio) |",
          "",
          "Requests \($v.verdict.requests), non-2xx \($v.verdict.non2xx); largest WAL \($v.verdict.wal_mb_max) MB beside a \($v.verdict.database_mb_at_end) MB database. **Flat: \($v.verdict.flat | yes).**",
          "",
          "Logins: \($v.logins.answered_200) of \($v.logins.logins) answered 200 (by status: \($v.logins.by_status | tojson)); RSS \($v.logins.rss_kb_before / 1024 | floor) MB before, \($v.logins.rss_kb_after / 1024 | floor) MB two seconds after (peak RSS of the whole run \($v.logins.vmhwm_kb_after / 1024 | floor) MB).",
          "",
          "| window end (s) | req/s | p50 ms | p99 ms | max ms | non-2xx | RSS MB | WAL MB | database MB |",
          "|---|---|---|---|---|---|---|---|---|",
          ($v.windows[] | "| \(.end_s) | \(.rps) | \(.p50_ms) | \(.p99_ms) | \(.max_ms) | \(.responses_non2xx) | \(.rss_kb / 1024 | floor) | \(.wal_bytes / 1048576 * 10 | round / 10) | \(.database_bytes / 1048576 * 10 | round / 10) |"),
          "")
  ' "$RESULT" >"$WORK/soak.md"
  cp "$WORK/soak.md" docs/soak.md
  log "wrote docs/soak.md"
fi
log "done in $(($(date +%s) - STARTED_AT)) s"
