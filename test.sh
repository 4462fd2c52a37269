#!/usr/bin/env bash
# Installs what the tests need, builds, runs every test project, and ends with one line "N passed, N failed".
# Tests that need MariaDB or Redis start private instances themselves (see tests/ReadHistory.TestSupport).
set -uo pipefail
cd "$(dirname "$0")"

./scripts/install-deps.sh || { echo "0 passed, 1 failed"; exit 1; }

results="artifacts/test-results"
rm -rf "$results"
mkdir -p "$results"

if ! dotnet build ReadHistory.sln -c Debug -nologo -clp:ErrorsOnly; then
  echo "build failed"
  echo "0 passed, 1 failed"
  exit 1
fi

# The short chaos suite times a cluster of eight processes (how long a restarted proxy takes to answer again, how many
# calls fail meanwhile). dotnet test runs the other projects in parallel, each starting its own servers; on two cores
# they would be timed along with the cluster, so the chaos project runs alone, after them.
chaos="FullyQualifiedName~ReadHistory.Chaos.Tests."
dotnet test ReadHistory.sln -c Debug --no-build -nologo --logger "trx" --results-directory "$results" \
  --filter "FullyQualifiedName!~ReadHistory.Chaos.Tests." \
  --blame-hang-timeout 5m -- RunConfiguration.TestSessionTimeout=1500000
status=$?
dotnet test tests/ReadHistory.Chaos.Tests/ReadHistory.Chaos.Tests.csproj -c Debug --no-build -nologo --logger "trx" \
  --results-directory "$results" --filter "$chaos" --blame-hang-timeout 5m -- RunConfiguration.TestSessionTimeout=600000
chaos_status=$?
[ $status -eq 0 ] && status=$chaos_status

passed=0
failed=0
shopt -s nullglob
for trx in "$results"/*.trx; do
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")
  f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  e=$(sed -n 's/.* error="\([0-9]*\)".*/\1/p' <<<"$counters")
  t=$(sed -n 's/.* timeout="\([0-9]*\)".*/\1/p' <<<"$counters")
  a=$(sed -n 's/.* aborted="\([0-9]*\)".*/\1/p' <<<"$counters")
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0} + ${e:-0} + ${t:-0} + ${a:-0}))
done

# A test host that crashed leaves no counters for its tests: count the run as failed.
if [ $status -ne 0 ] && [ $failed -eq 0 ]; then
  failed=1
fi

echo "$passed passed, $failed failed"
[ $failed -eq 0 ] && [ $status -eq 0 ]
