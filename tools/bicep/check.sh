#!/usr/bin/env bash
# Builds infra/main.bicep and lints every .bicep file under infra/ with the rules of
# infra/bicepconfig.json. Fails on any diagnostic at all: the Bicep CLI exits 0 on
# warnings, so its output is checked as well as its exit code.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bicep="$("$here/find.sh")"
echo "Bicep CLI: $bicep ($("$bicep" --version))"

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
status=0

run() {
  local label="$1"
  shift
  local log="$out/log" ok=1
  if ! (cd "$root" && "$bicep" "$@") >"$log" 2>&1; then
    ok=0
  fi
  if grep -Eq '\) : (Error|Warning|Info) ' "$log"; then
    ok=0
  fi
  if [[ -s "$log" ]]; then
    cat "$log"
  fi
  if [[ $ok -eq 1 ]]; then
    echo "$label: ok"
  else
    echo "$label: FAILED"
    status=1
  fi
}

run "bicep build infra/main.bicep" build infra/main.bicep --outfile "$out/main.json"
run "bicep lint infra/**/*.bicep" lint --pattern 'infra/**/*.bicep'

if [[ $status -ne 0 ]]; then
  echo "Bicep build/lint reported problems (warnings count as failures)." >&2
fi
exit $status
