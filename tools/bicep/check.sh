#!/usr/bin/env bash
# Builds infra/main.bicep and lints every .bicep file under infra/ with the rules of
# infra/bicepconfig.json, failing on any diagnostic at all (the Bicep CLI exits 0 on
# warnings, so its output is checked as well as its exit code). These are the
# "bicep build and lint" checks of the infra tests (test/infra/template.test.ts),
# which CI runs once, with the rest of `npm test`; this runs them alone. The CLI is
# the one tools/bicep/find.sh finds.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
exec npx vitest run test/infra/template.test.ts --testNamePattern "bicep build and lint"
