# Sourced by run.sh and bench/run-e2e.sh: a private MariaDB (MyRocks, ROW binlog) and Redis on 127.0.0.1 under a
# data folder, and the service's database user. Each start_* runs its server in the background: its pid is in $!.
# Logs go to DATA/logs (the caller creates DATA/mariadb, DATA/redis and DATA/logs).

# start_mariadb DATA PORT [mariadbd arguments...]: initialises DATA/mariadb on first use, then starts mariadbd.
start_mariadb() {
  local data=$1 port=$2
  shift 2
  if [ ! -d "$data/mariadb/mysql" ]; then
    echo "initialising MariaDB in $data/mariadb"
    mariadb-install-db --no-defaults --datadir="$data/mariadb" --user="$(id -un)" \
      --auth-root-authentication-method=normal --skip-test-db > "$data/logs/mariadb-install.log" 2>&1
  fi
  /usr/sbin/mariadbd --no-defaults --datadir="$data/mariadb" --user="$(id -un)" --port="$port" \
    --bind-address=127.0.0.1 --socket="$data/mariadb.sock" --pid-file="$data/mariadb.pid" \
    --log-error="$data/logs/mariadb.log" --skip-name-resolve --plugin-load-add=ha_rocksdb \
    --log-bin="$data/mariadb/binlog" --binlog-format=ROW --server-id=1 --character-set-server=utf8mb4 "$@" &
}

# start_redis DATA PORT [redis-server arguments...]: starts redis-server with its files in DATA/redis.
start_redis() {
  local data=$1 port=$2
  shift 2
  redis-server --port "$port" --bind 127.0.0.1 --dir "$data/redis" --logfile "$data/logs/redis.log" \
    --daemonize no "$@" &
}

# grant_service_user DATA: waits (up to 60 s) for the MariaDB of DATA, then creates readhistory@127.0.0.1
# (password readhistory) with every privilege, replication included.
grant_service_user() {
  local data=$1
  for _ in $(seq 1 120); do
    mariadb --no-defaults -uroot --socket="$data/mariadb.sock" -e "SELECT 1" >/dev/null 2>&1 && break
    sleep 0.5
  done
  mariadb --no-defaults -uroot --socket="$data/mariadb.sock" <<SQL
CREATE USER IF NOT EXISTS 'readhistory'@'127.0.0.1' IDENTIFIED BY 'readhistory';
GRANT ALL PRIVILEGES ON *.* TO 'readhistory'@'127.0.0.1';
FLUSH PRIVILEGES;
SQL
}
