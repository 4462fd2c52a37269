#!/usr/bin/env bash
# Sets up and runs ReadHistory on its embedded default: private MariaDB (MyRocks) and Redis under ./data,
# every role in one process, gRPC on 127.0.0.1:50051 (the internal CacheNode API on 127.0.0.1:50052) and HTTP
# (metrics, health) on 127.0.0.1:8080.
#   ./run.sh        run in the foreground; Ctrl-C stops everything
#   ./run.sh demo   start, run a short demo through the CLI, print what happened, stop
set -euo pipefail
cd "$(dirname "$0")"
root=$(pwd)
source scripts/local-servers.sh
mode=${1:-run}
data=${READHISTORY_DATA:-$root/data}
db_port=${READHISTORY_DB_PORT:-13306}
redis_port=${READHISTORY_REDIS_PORT:-16379}
grpc=${READHISTORY_GRPC:-127.0.0.1:50051}
http=${READHISTORY_HTTP:-127.0.0.1:8080}
internal_grpc=${READHISTORY_INTERNAL_GRPC:-127.0.0.1:50052}

case "$mode" in run|demo) ;; *) echo "usage: ./run.sh [demo]" >&2; exit 2 ;; esac

./scripts/install-deps.sh

echo "building (Release)"
dotnet build src/ReadHistory.Server -c Release -nologo -clp:ErrorsOnly -v:q
dotnet build src/ReadHistory.Cli -c Release -nologo -clp:ErrorsOnly -v:q
server_dll=src/ReadHistory.Server/bin/Release/net10.0/readhistory.dll
cli() { dotnet src/ReadHistory.Cli/bin/Release/net10.0/readhistory-cli.dll "$@"; }

mkdir -p "$data/mariadb" "$data/redis" "$data/logs"
pids=()
stop_all() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  echo "stopped"
}
trap stop_all INT TERM EXIT

start_mariadb "$data" "$db_port"
pids+=($!)
start_redis "$data" "$redis_port" --appendonly yes --save ""
pids+=($!)
grant_service_user "$data"
echo "MariaDB on 127.0.0.1:$db_port, Redis on 127.0.0.1:$redis_port (data in $data)"

export ReadHistory__Roles=all
export ReadHistory__GrpcListen="$grpc"
export ReadHistory__InternalGrpcListen="$internal_grpc"
export ReadHistory__HttpListen="$http"
export ReadHistory__Database__ConnectionString="Server=127.0.0.1;Port=$db_port;User ID=readhistory;Password=readhistory;SslMode=None"
export ReadHistory__Redis__Configuration="127.0.0.1:$redis_port"

if [ -f "$server_dll" ]; then :; else echo "error: $server_dll was not built" >&2; exit 1; fi
dotnet "$server_dll" migrate
dotnet "$server_dll" &
pids+=($!)

for _ in $(seq 1 120); do
  curl -fs "http://$http/readyz" >/dev/null 2>&1 && break
  sleep 0.5
done
curl -fs "http://$http/readyz" >/dev/null || { echo "error: the service did not become ready; see the log above" >&2; exit 1; }

cat <<EOT
ReadHistory is ready: gRPC on $grpc, metrics and health on http://$http (/metrics, /healthz, /readyz).
Try:
  dotnet src/ReadHistory.Cli/bin/Release/net10.0/readhistory-cli.dll mark   --endpoint http://$grpc --user 42 --ids 1,2,3
  dotnet src/ReadHistory.Cli/bin/Release/net10.0/readhistory-cli.dll check  --endpoint http://$grpc --user 42 --ids 1,2,3,4,5
  dotnet src/ReadHistory.Cli/bin/Release/net10.0/readhistory-cli.dll filter --endpoint http://$grpc --user 42 --ids 1,2,3,4,5
  curl -s http://$http/metrics | grep readhistory_
EOT

if [ "$mode" = demo ]; then
  set -x
  cli health --endpoint "http://$grpc"
  cli mark --endpoint "http://$grpc" --user 42 --ids 1,2,3
  cli check --endpoint "http://$grpc" --user 42 --ids 1,2,3,4,5
  cli filter --endpoint "http://$grpc" --user 42 --ids 1,2,3,4,5
  sleep 1   # the first miss started a rebuild of user 42; now the answer comes from memory
  cli check --endpoint "http://$grpc" --user 42 --ids 1,2,3,4,5
  cli explain --node "http://$internal_grpc" --user 42 --id 2   # why: the filter's answer and layer, the database's
  cli forget --endpoint "http://$grpc" --user 42
  cli check --endpoint "http://$grpc" --user 42 --ids 1,2,3 || true
  curl -s "http://$http/metrics" | grep -E '^readhistory_rpc_requests_total' | head -10
  set +x
  echo "demo done"
  exit 0
fi

echo "Ctrl-C stops everything."
wait "${pids[-1]}"
