#!/usr/bin/env bash
# The chaos suite in one command: builds the server and the suite (Release) and runs it. Every argument goes to
# readhistory-chaos (see bench/chaos/README.md), e.g.
#   bench/chaos/run.sh                          all phases, 35 s each (~6 minutes)
#   bench/chaos/run.sh --seconds-per-phase 60   longer windows
#   bench/chaos/run.sh --short                  the variant ./test.sh runs (~2.5 minutes)
#   SKIP_BUILD=1 bench/chaos/run.sh ...         use the Release builds already there
# Exit 0 = every assertion of issue 17's "Done when" held, 1 = one failed (named on stdout), 2 = bad arguments.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ -z "${SKIP_BUILD:-}" ]; then
  # The suite's project builds the server too (a build-order reference), in the same configuration.
  dotnet build bench/ReadHistory.Chaos -c Release -nologo -clp:ErrorsOnly -v:q
fi
exec dotnet bench/ReadHistory.Chaos/bin/Release/net10.0/readhistory-chaos.dll "$@"
