#!/usr/bin/env bash
# Prints the path of a Bicep CLI to use, looking in this order:
#   1. $BICEP_PATH
#   2. the copy restored into .tools/ by tools/bicep/restore.sh
#   3. `bicep` on PATH
#   4. the copy the Azure CLI manages (`az bicep install`)
#   5. a fresh restore from NuGet with tools/bicep/restore.sh, when `dotnet` is there
# Fails, saying how to get one, when none of them gives a working CLI.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

works() { [[ -n "$1" && -x "$1" ]] && "$1" --version >/dev/null 2>&1; }

if [[ -n "${BICEP_PATH:-}" ]]; then
  if works "$BICEP_PATH"; then echo "$BICEP_PATH"; exit 0; fi
  echo "BICEP_PATH is set to '$BICEP_PATH', which is not a working Bicep CLI." >&2
  exit 1
fi

for candidate in "$root"/.tools/nuget/azure.bicep.commandline.linux-x64/*/tools/bicep; do
  if works "$candidate"; then echo "$candidate"; exit 0; fi
done

if command -v bicep >/dev/null 2>&1 && works "$(command -v bicep)"; then
  command -v bicep
  exit 0
fi

if command -v az >/dev/null 2>&1 && az bicep version >/dev/null 2>&1; then
  candidate="${AZURE_CONFIG_DIR:-$HOME/.azure}/bin/bicep"
  if works "$candidate"; then echo "$candidate"; exit 0; fi
fi

if command -v dotnet >/dev/null 2>&1; then
  candidate="$("$here/restore.sh")"
  if works "$candidate"; then echo "$candidate"; exit 0; fi
fi

cat >&2 <<'MSG'
The infrastructure checks need the Bicep CLI, and none was found.
Get one of these:
  - the .NET SDK (dotnet), then run tools/bicep/restore.sh (restores Bicep from NuGet into .tools/);
  - the Azure CLI, then run: az bicep install;
  - a bicep binary on PATH (https://aka.ms/bicep-install), or BICEP_PATH=/path/to/bicep.
MSG
exit 1
