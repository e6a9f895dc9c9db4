#!/bin/bash
# Debian's MariaDB in its default configuration (innodb_use_native_aio on:
# io_uring, refused under greenify, so InnoDB falls back to libaio, whose
# io_getevents waits on a worker) under greenify and natively, sysbench
# oltp_read_write at 16 and 128 connections over the Unix socket. Prints
# transactions per second side by side, and checks that the greenified
# server starts, answers every run and shuts down on SIGTERM, on one OS
# thread. Raw sysbench output in bench/results/mariadb-<date>.txt.
# Usage: scripts/bench-mariadb.sh BUILD_DIR [SECONDS=20]
set -u
build=$(cd "${1:-build}" && pwd)
secs=${2:-20}
out_dir=bench/results
mkdir -p "$out_dir"
raw=$out_dir/mariadb-$(date +%Y%m%d-%H%M%S).txt
tmp=$(mktemp -d) || exit 2
pid=
cleanup() {
	[ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
for p in /usr/sbin/mariadbd /usr/bin/mariadb-install-db /usr/bin/sysbench; do
	[ -x "$p" ] || { echo "bench-mariadb: $p missing (scripts/deps.sh bench installs it)"; exit 1; }
done
mkdir -p "$tmp/data"
mariadb-install-db --no-defaults --datadir="$tmp/data" --user="$(id -un)" \
	--auth-root-authentication-method=normal >"$tmp/install.log" 2>&1 ||
	{ echo "bench-mariadb: mariadb-install-db failed"; cat "$tmp/install.log"; exit 1; }
# The default configuration, but for where it keeps its files.
cat >"$tmp/my.cnf" <<CNF
[mysqld]
datadir=$tmp/data
socket=$tmp/sock
skip-networking
user=$(id -un)
log-error=$tmp/err.log
pid-file=$tmp/pid
CNF
sb="sysbench oltp_read_write --db-driver=mysql --mysql-socket=$tmp/sock --mysql-user=root \
	--mysql-db=sbtest --tables=8 --table-size=20000"
status=0

# start MODE: the server, preloaded or not; waits until it answers.
start() {
	if [ "$1" = greenify ]; then
		GREENIFY_STATS=1 "$build/greenify" /usr/sbin/mariadbd --defaults-file="$tmp/my.cnf" \
			>"$tmp/$1.out" 2>&1 &
	else
		/usr/sbin/mariadbd --defaults-file="$tmp/my.cnf" >"$tmp/$1.out" 2>&1 &
	fi
	pid=$!
	for _ in $(seq 600); do
		mariadb --socket="$tmp/sock" -uroot -e 'SELECT 1' >/dev/null 2>&1 && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	echo "bench-mariadb [$1]: the server did not start"
	tail -20 "$tmp/err.log"
	return 1
}

stop() {
	kill -TERM "$pid"
	for _ in $(seq 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$pid" 2>/dev/null; then
		echo "bench-mariadb [$1]: SIGTERM did not end the server within 60 s"
		kill -KILL "$pid"
		status=1
	fi
	wait "$pid" 2>/dev/null
	pid=
}

declare -A tps
for mode in greenify native; do
	start "$mode" || { status=1; continue; }
	if [ "$mode" = greenify ]; then
		grep -E 'io_uring|libaio|native AIO' "$tmp/err.log" | sed 's/^/  server: /'
		mariadb --socket="$tmp/sock" -uroot -e 'CREATE DATABASE sbtest' &&
			$sb --threads=8 prepare >>"$raw" 2>&1 || { echo "bench-mariadb: prepare failed"; status=1; }
	fi
	for threads in 16 128; do
		echo "== $mode, $threads connections" >>"$raw"
		$sb --threads="$threads" --time="$secs" run >"$tmp/run" 2>&1
		cat "$tmp/run" >>"$raw"
		tps[$mode.$threads]=$(sed -n 's/.*transactions: *[0-9]* *(\([0-9.]*\) per sec.).*/\1/p' "$tmp/run")
		[ -n "${tps[$mode.$threads]}" ] || { echo "bench-mariadb [$mode]: sysbench failed"; tail -5 "$tmp/run"; status=1; }
	done
	stop "$mode"
	[ "$mode" = greenify ] && grep -hE '^greenify: stats' "$tmp/$mode.out" "$tmp/err.log" | sed 's/^/  /'
done
echo "MariaDB 10.11 default config, sysbench oltp_read_write ${secs} s (transactions/s):"
printf '  %-12s %10s %10s %8s\n' connections native greenify ratio
for threads in 16 128; do
	n=${tps[native.$threads]:-0}
	g=${tps[greenify.$threads]:-0}
	printf '  %-12s %10s %10s %8s\n' "$threads" "$n" "$g" \
		"$(python3 -c "print('%.2f' % ($g / $n if $n else 0))")"
done
echo "raw: $raw"
exit $status
