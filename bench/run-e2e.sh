#!/usr/bin/env bash
# End-to-end benchmark in one command: starts a private MariaDB (MyRocks, binlog), Redis and the service as two
# processes — one cache node (roles cache,cdc; its internal CacheNode API on E2E_NODE_GRPC, the node's internal
# listener) and one proxy (role proxy,
# public API on E2E_GRPC, one pool of one slot pointing at the node) — under a temporary data folder on non-default
# ports (never clashing with ./run.sh), migrates, preloads the history for a seed, runs `readhistory-loadgen compare`
# for each scenario of SCENARIOS, RUNS times, and stops everything. `service` goes through the proxy,
# `service-direct` calls the node's internal API. Each summary is appended to bench/RESULTS.md unless NO_APPEND=1;
# JSON beside it in bench/ReadHistory.LoadGen/results/.
#   bench/run-e2e.sh                                   feed once, defaults below
#   USERS=50000 DURATION=60 RATE=500 bench/run-e2e.sh
#   SCENARIOS="feed push ingest rbase-peak" RUNS=2 bench/run-e2e.sh   every scenario, twice
#   SCENARIO=rbase-peak TARGETS=service bench/run-e2e.sh               RBase's peak offered to the service alone
#   SKIP_BUILD=1 ...                                   use the Release builds already there
# Rates per scenario: feed RATE checks/s + INGEST_RATE rows/s; push PUSH_RATE BatchCheck calls/s of BATCH_USERS users;
# ingest INGEST_ONLY_RATE rows/s in calls of INGEST_BATCH; rbase-peak its own (30,000 checks/s x 400 ids + 40,000
# rows/s in calls of 100) unless PEAK_RATE / PEAK_INGEST_RATE are set. EXTRA_ARGS are passed to every compare;
# JSON_PREFIX is the JSON files' path prefix (<prefix>-<scenario>-run<n>.json; default bench/ReadHistory.LoadGen/results/e2e).
# The proxy runs server GC as in k8s (PROXY_GC_SERVER=0: the executable's workstation GC, as the node runs).
# T2=on|off turns the node's second tier (Cache:T2) on or off (unset: the shipped setting, off).
# BUDGET_SHARE=P sets the node's T1 budget (Cache:BudgetBytes) to P % of the working set's filters at 1 % (from
# `readhistory-loadgen model`; at least 1 MiB, MaxFilterBytes a quarter of it). churn: feed at RATE/INGEST_RATE with
# BUDGET_SHARE 20 unless set, and the node's database reads and T2 reported (its /metrics, its Redis), e.g.
#   SCENARIO=churn TARGETS=service-direct T2=on bench/run-e2e.sh; then T2=off (one node per run of this script)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/local-servers.sh
users=${USERS:-20000}; seed=${SEED:-1}; rate=${RATE:-300}; ingest=${INGEST_RATE:-500}
warmup=${WARMUP:-10}; duration=${DURATION:-20}; targets=${TARGETS:-service,service-direct,database,redis-set,redis-bloom}
heavy=${HEAVY_SHARE:-0.0001}; runs=${RUNS:-1}; scenarios=${SCENARIOS:-${SCENARIO:-feed}}
db_port=${E2E_DB_PORT:-23306}; redis_port=${E2E_REDIS_PORT:-26379}
grpc=${E2E_GRPC:-127.0.0.1:50151}; http=${E2E_HTTP:-127.0.0.1:8180}
node_grpc=${E2E_NODE_GRPC:-127.0.0.1:50152}; node_http=${E2E_NODE_HTTP:-127.0.0.1:8181}
# The node's own public listener (health, reflection): nothing here calls it, but every process binds one.
node_public_grpc=${E2E_NODE_PUBLIC_GRPC:-127.0.0.1:50153}
data=$(mktemp -d /tmp/readhistory-e2e.XXXXXX)
server_dll=src/ReadHistory.Server/bin/Release/net10.0/readhistory.dll
loadgen_dll=bench/ReadHistory.LoadGen/bin/Release/net10.0/readhistory-loadgen.dll

if [ -z "${SKIP_BUILD:-}" ]; then
  dotnet build src/ReadHistory.Server -c Release -nologo -clp:ErrorsOnly -v:q
  dotnet build bench/ReadHistory.LoadGen -c Release -nologo -clp:ErrorsOnly -v:q
fi

pids=()
stop_all() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$data"
  echo "stopped; removed $data" >&2
}
trap stop_all INT TERM EXIT

mkdir -p "$data/mariadb" "$data/redis" "$data/logs"
start_mariadb "$data" "$db_port" --max-connections=1000
db_pid=$!; pids+=("$db_pid")
start_redis "$data" "$redis_port" --save "" --appendonly no
redis_pid=$!; pids+=("$redis_pid")
grant_service_user "$data"

db="Server=127.0.0.1;Port=$db_port;User ID=readhistory;Password=readhistory;SslMode=None"
export ReadHistory__Database__ConnectionString="$db"
# One pool ("default": the default tenant) of one slot whose replica is the node; both processes read it (the CDC
# groups changes by it, the proxy routes by it).
export ReadHistory__Topology__Pools__0__Name=default ReadHistory__Topology__Pools__0__Slots__0__Replicas__0="http://$node_grpc"
dotnet "$server_dll" migrate
workload=(--seed "$seed" --users "$users" --heavy-share "$heavy")
dotnet "$loadgen_dll" preload "${workload[@]}" --db "$db"
budget_share=${BUDGET_SHARE:-}
case " $scenarios " in *" churn "*) budget_share=${budget_share:-20} ;; esac
if [ -n "$budget_share" ]; then
  filter_bytes=$(dotnet "$loadgen_dll" model "${workload[@]}" | sed -n 's/.*filter bytes at 1 % \([0-9]*\).*/\1/p')
  budget=$(( filter_bytes * budget_share / 100 )); [ "$budget" -lt 1048576 ] && budget=1048576
  export ReadHistory__Cache__BudgetBytes=$budget ReadHistory__Cache__MaxFilterBytes=$(( budget / 4 ))
  echo "T1 budget $budget bytes: $budget_share % of the working set's $filter_bytes filter bytes" >&2
fi
if [ -n "${T2:-}" ]; then
  export ReadHistory__Cache__T2__Enabled=$([ "$T2" = on ] && echo true || echo false)
fi

ReadHistory__Roles=cache,cdc ReadHistory__Cache__Slot=0 ReadHistory__InternalGrpcListen="$node_grpc" \
  ReadHistory__GrpcListen="$node_public_grpc" ReadHistory__HttpListen="$node_http" \
  ReadHistory__Redis__Configuration="127.0.0.1:$redis_port" dotnet "$server_dll" > "$data/logs/node.log" 2>&1 &
node_pid=$!; pids+=("$node_pid")
# The proxy on server GC, as k8s/base/proxy.yaml runs it (the node keeps the executable's workstation GC).
DOTNET_gcServer=${PROXY_GC_SERVER:-1} ReadHistory__Roles=proxy ReadHistory__GrpcListen="$grpc" ReadHistory__HttpListen="$http" \
  dotnet "$server_dll" > "$data/logs/proxy.log" 2>&1 &
proxy_pid=$!; pids+=("$proxy_pid")
for name in node proxy; do
  [ "$name" = node ] && url="http://$node_http/readyz" || url="http://$http/readyz"
  for _ in $(seq 1 120); do curl -fs "$url" >/dev/null 2>&1 && break; sleep 0.5; done
  curl -fs "$url" >/dev/null || { echo "error: the $name did not become ready" >&2; tail -20 "$data/logs/$name.log" >&2; exit 1; }
done

append=(); [ -n "${NO_APPEND:-}" ] && append=(--no-append)
if [ -n "${HOLD:-}" ]; then
  echo "ready; run e.g.: dotnet $loadgen_dll compare ${workload[*]} --endpoint http://$grpc --node-endpoint http://$node_grpc" \
    "--metrics http://$node_http/metrics --db '$db' --redis 127.0.0.1:$redis_port" \
    "--watch proxy=$proxy_pid,node=$node_pid,mariadb=$db_pid,redis=$redis_pid --no-append ...; Ctrl-C stops everything" >&2
  wait "$node_pid"
  exit 0
fi
mkdir -p bench/ReadHistory.LoadGen/results
status=0
for run in $(seq 1 "$runs"); do
  for scenario in $scenarios; do
    case "$scenario" in
      feed|churn) rates=(--rate "$rate" --ingest-rate "$ingest") ;;
      push) rates=(--rate "${PUSH_RATE:-20}" --batch-users "${BATCH_USERS:-50}") ;;
      ingest) rates=(--ingest-rate "${INGEST_ONLY_RATE:-5000}" --ingest-batch "${INGEST_BATCH:-100}") ;;
      rbase-peak) rates=(); [ -n "${PEAK_RATE:-}" ] && rates+=(--rate "$PEAK_RATE")
                  [ -n "${PEAK_INGEST_RATE:-}" ] && rates+=(--ingest-rate "$PEAK_INGEST_RATE") ;;
      *) echo "error: scenario '$scenario' is not one of feed, push, ingest, rbase-peak, churn" >&2; exit 2 ;;
    esac
    echo "== run $run of $runs, $scenario; load average: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
    dotnet "$loadgen_dll" compare "${workload[@]}" --scenario "$scenario" "${rates[@]}" \
      --warmup "$warmup" --duration "$duration" --targets "$targets" \
      --endpoint "http://$grpc" --node-endpoint "http://$node_grpc" --metrics "http://$node_http/metrics" \
      --db "$db" --redis "127.0.0.1:$redis_port" \
      --watch "proxy=$proxy_pid,node=$node_pid,mariadb=$db_pid,redis=$redis_pid" ${EXTRA_ARGS:-} \
      --json "${JSON_PREFIX:-bench/ReadHistory.LoadGen/results/e2e}-$scenario-run$run.json" "${append[@]}" || status=$?
  done
done
echo "node log:" >&2; grep -iE "error|fail|warn" "$data/logs/node.log" | tail -5 >&2 || true
echo "proxy log:" >&2; grep -iE "error|fail|warn" "$data/logs/proxy.log" | tail -5 >&2 || true
exit "$status"
