#!/usr/bin/env bash
# Restores the Bicep CLI (Azure.Bicep.CommandLine.linux-x64, pinned below) from
# NuGet into .tools/ at the repository root and prints the path of the `bicep`
# binary on stdout (progress goes to stderr). Safe to run again: a restored
# binary is reused.
#
#   tools/bicep/restore.sh            -> /abs/path/.tools/nuget/.../bicep
#   BICEP="$(tools/bicep/restore.sh)" && "$BICEP" --version
#
# Needs the .NET SDK (`dotnet`). People with `bicep` on PATH or `az bicep`
# do not need this script.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
package="azure.bicep.commandline.linux-x64"
version="0.49.2" # keep in step with bicep.csproj
packages="$root/.tools/nuget"
bicep="$packages/$package/$version/tools/bicep"

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) ;;
  *)
    echo "tools/bicep/restore.sh restores the linux-x64 Bicep CLI only; on $(uname -s)-$(uname -m) install Bicep yourself (https://aka.ms/bicep-install) or use 'az bicep install'." >&2
    exit 1
    ;;
esac

if [[ ! -x "$bicep" ]]; then
  if ! command -v dotnet >/dev/null 2>&1; then
    echo "tools/bicep/restore.sh needs the .NET SDK (dotnet) to restore the Bicep CLI from NuGet." >&2
    exit 1
  fi
  echo "Restoring Bicep CLI $version from NuGet into $packages ..." >&2
  DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1 \
    dotnet restore "$here/bicep.csproj" --packages "$packages" --verbosity quiet \
    "-p:BaseIntermediateOutputPath=$root/.tools/bicep-obj/" >&2
  if [[ ! -f "$bicep" ]]; then
    found="$(find "$packages/$package/$version" -type f -name bicep 2>/dev/null | head -n 1 || true)"
    if [[ -z "$found" ]]; then
      echo "Restore finished but no bicep binary was found under $packages/$package/$version." >&2
      exit 1
    fi
    bicep="$found"
  fi
  chmod +x "$bicep"
fi

echo "$bicep"
