#!/usr/bin/env bash
# Installs what the service and its tests need on Debian 12, only what is missing:
# MariaDB (+ MyRocks plugin, client tools), Redis, promtool (prometheus), openssl, python3-yaml (manifest
# tests), and the npm
# packages of the gRPC conformance tests. Safe to run repeatedly.
set -euo pipefail

need=()
for pkg in mariadb-server mariadb-plugin-rocksdb mariadb-client redis-server redis-tools prometheus openssl python3-yaml; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  # Debian's packages try to start their services; the project runs its own instances, so a refusal is fine.
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

for tool in dotnet node npm; do
  command -v "$tool" >/dev/null || { echo "error: $tool is not installed (the .NET 10 SDK and Node.js are expected on the machine)" >&2; exit 1; }
done

conformance="$(dirname "$0")/../tests/ReadHistory.Server.IntegrationTests/Conformance/js"
if [ -f "$conformance/package.json" ] && [ ! -d "$conformance/node_modules" ]; then
  echo "installing npm packages for the gRPC conformance tests"
  (cd "$conformance" && { [ -f package-lock.json ] && npm ci --no-audit --no-fund --silent || npm install --no-audit --no-fund --silent; })
fi
