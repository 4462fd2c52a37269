#!/usr/bin/env bash
# End-to-end benchmark in one command: starts a private MariaDB (MyRocks, binlog), Redis and the service (role all)
# under a temporary data folder on non-default ports (so it never clashes with ./run.sh), migrates, preloads the
# history for a seed, runs `readhistory-loadgen compare` for the feed scenario (service, database, redis-set,
# redis-bloom) and stops everything. Summary appended to bench/RESULTS.md unless NO_APPEND=1.
#   bench/run-e2e.sh                       defaults below
#   USERS=50000 DURATION=60 RATE=500 bench/run-e2e.sh
#   SCENARIO=rbase-peak TARGETS=service bench/run-e2e.sh   RBase's peak offered to the service alone
#   SKIP_BUILD=1 ...                       use the Release builds already there
set -euo pipefail
cd "$(dirname "$0")/.."
users=${USERS:-20000}; seed=${SEED:-1}; rate=${RATE:-300}; ingest=${INGEST_RATE:-500}
warmup=${WARMUP:-10}; duration=${DURATION:-20}; targets=${TARGETS:-service,database,redis-set,redis-bloom}
heavy=${HEAVY_SHARE:-0.0001}
db_port=${E2E_DB_PORT:-23306}; redis_port=${E2E_REDIS_PORT:-26379}
grpc=${E2E_GRPC:-127.0.0.1:50151}; http=${E2E_HTTP:-127.0.0.1:8180}
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
mariadb-install-db --no-defaults --datadir="$data/mariadb" --user="$(id -un)" \
  --auth-root-authentication-method=normal --skip-test-db > "$data/logs/mariadb-install.log" 2>&1
/usr/sbin/mariadbd --no-defaults --datadir="$data/mariadb" --user="$(id -un)" --port="$db_port" \
  --bind-address=127.0.0.1 --socket="$data/mariadb.sock" --pid-file="$data/mariadb.pid" \
  --log-error="$data/logs/mariadb.log" --skip-name-resolve --plugin-load-add=ha_rocksdb \
  --log-bin="$data/mariadb/binlog" --binlog-format=ROW --server-id=1 --character-set-server=utf8mb4 \
  --max-connections=1000 &
pids+=($!)
redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$data/redis" --save "" --appendonly no \
  --logfile "$data/logs/redis.log" --daemonize no &
pids+=($!)
for _ in $(seq 1 120); do
  mariadb --no-defaults -uroot --socket="$data/mariadb.sock" -e "SELECT 1" >/dev/null 2>&1 && break
  sleep 0.5
done
mariadb --no-defaults -uroot --socket="$data/mariadb.sock" <<SQL
CREATE USER IF NOT EXISTS 'readhistory'@'127.0.0.1' IDENTIFIED BY 'readhistory';
GRANT ALL PRIVILEGES ON *.* TO 'readhistory'@'127.0.0.1';
FLUSH PRIVILEGES;
SQL

db="Server=127.0.0.1;Port=$db_port;User ID=readhistory;Password=readhistory;SslMode=None"
export ReadHistory__Roles=all ReadHistory__GrpcListen="$grpc" ReadHistory__HttpListen="$http"
export ReadHistory__Database__ConnectionString="$db" ReadHistory__Redis__Configuration="127.0.0.1:$redis_port"
dotnet "$server_dll" migrate
workload=(--seed "$seed" --users "$users" --heavy-share "$heavy")
dotnet "$loadgen_dll" preload "${workload[@]}" --db "$db"

dotnet "$server_dll" > "$data/logs/service.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 120); do curl -fs "http://$http/readyz" >/dev/null 2>&1 && break; sleep 0.5; done
curl -fs "http://$http/readyz" >/dev/null || { echo "error: the service did not become ready" >&2; tail -20 "$data/logs/service.log" >&2; exit 1; }

append=(); [ -n "${NO_APPEND:-}" ] && append=(--no-append)
scenario=${SCENARIO:-feed}
rates=(--rate "$rate" --ingest-rate "$ingest")
[ "$scenario" = rbase-peak ] && rates=()   # its own offered load: 30,000 checks/s x 400 ids + 40,000 rows/s
dotnet "$loadgen_dll" compare "${workload[@]}" --scenario "$scenario" "${rates[@]}" \
  --warmup "$warmup" --duration "$duration" --targets "$targets" \
  --endpoint "http://$grpc" --metrics "http://$http/metrics" --db "$db" --redis "127.0.0.1:$redis_port" \
  --json "${JSON_OUT:-bench/ReadHistory.LoadGen/results/last-e2e.json}" "${append[@]}" || status=$?
echo "service log tail:" >&2; grep -iE "error|fail" "$data/logs/service.log" | tail -5 >&2 || true
exit "${status:-0}"
