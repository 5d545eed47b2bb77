#!/usr/bin/env bash
# OpenAPI linters over the committed contract, run by CI (not by `cargo test`):
#   bash tests/contract/run.sh
# Installs the npm packages in tests/contract/package-lock.json (Spectral, Redocly CLI), then lints
# openapi/openapi.json with Spectral (tests/contract/.spectral.yaml, `spectral:oas`) and Redocly
# (tests/contract/redocly.yaml, `recommended`), prints each linter's findings and its counts of
# errors and warnings, and exits non-zero if either reports an error. Warnings are shown, not fatal.
# BESKPLAN_OPENAPI names another contract to lint (default openapi/openapi.json).
# Needs Node.js 20 or newer; talks to nothing but the npm registry (while installing).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
SPEC=${BESKPLAN_OPENAPI:-openapi/openapi.json}
DIR=tests/contract
BIN=$DIR/node_modules/.bin

step() { printf '\n==> %s\n' "$*"; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/beskplan-contract.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

step "npm packages ($DIR/package-lock.json)"
command -v node >/dev/null && command -v npm >/dev/null || { echo "node and npm are needed (Node.js 20 or newer)" >&2; exit 1; }
# Installed afresh whenever package-lock.json differs from the one last installed.
if cmp -s $DIR/package-lock.json $DIR/node_modules/.installed-lock.json 2>/dev/null; then
  echo "up to date"
else
  (cd $DIR && npm ci --no-audit --no-fund --loglevel=error && cp package-lock.json node_modules/.installed-lock.json)
fi

# Redocly CLI would otherwise send usage telemetry and look for updates over the network.
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true

# Prints "<linter>: N errors, N warnings" from a linter's JSON report and records whether it had
# errors; a missing or unreadable report (the linter crashed) counts as an error.
status=0
count() {
  node - "$1" "$2" <<'EOF' || status=1
const [name, file] = process.argv.slice(2);
const fs = require("fs");
let report;
try { report = JSON.parse(fs.readFileSync(file, "utf8")); } catch (e) {
  console.log(`${name}: no report (${e.message})`); process.exit(1);
}
let errors, warnings, other = 0;
if (Array.isArray(report)) { // Spectral: severity 0 error, 1 warning, 2 information, 3 hint
  errors = report.filter(p => p.severity === 0).length;
  warnings = report.filter(p => p.severity === 1).length;
  other = report.length - errors - warnings;
} else { // Redocly: {totals: {errors, warnings, ignored}}
  ({ errors, warnings } = report.totals);
}
console.log(`${name}: ${errors} errors, ${warnings} warnings` + (other ? `, ${other} information/hints` : ""));
process.exit(errors ? 1 : 0);
EOF
}

step "Spectral ($("$BIN/spectral" --version)) on $SPEC"
# The exit code is left to count(), so that both linters always run.
"$BIN/spectral" lint --ruleset $DIR/.spectral.yaml --fail-severity error \
  --format stylish --format json --output.json "$TMP/spectral.json" "$SPEC" || true

step "Redocly ($("$BIN/redocly" --version 2>/dev/null)) on $SPEC"
"$BIN/redocly" lint --config $DIR/redocly.yaml --format stylish "$SPEC" || true
"$BIN/redocly" lint --config $DIR/redocly.yaml --format json "$SPEC" >"$TMP/redocly.json" 2>/dev/null || true

step "Summary"
count spectral "$TMP/spectral.json"
count redocly "$TMP/redocly.json"
exit "$status"
