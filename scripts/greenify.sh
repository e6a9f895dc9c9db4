#!/bin/sh
# greenify: run a command with every pthread turned into a green thread.
# Exec's the command with libgreenify.so preloaded, so its exit status and
# the signal that ends it are the command's own.
set -eu

usage() {
	cat <<'USAGE'
Usage: greenify [OPTIONS] [--] COMMAND [ARG]...
       greenify --audit PROGRAM [LIBRARY]...
       greenify dump PID
Run COMMAND with libgreenify.so preloaded: its threads become green threads
that share one OS thread and wait on an event loop instead of blocking it.

--audit lists the blocking functions that PROGRAM and the libraries it
loads (and each LIBRARY it dlopens, if named) import, and how greenify
handles each: green, pool, plain by design, pending or NOT HANDLED; it
exits 1 if any is NOT HANDLED.

dump PID prints the green threads of the running process PID, which was
started with GREENIFY_DUMP=1 and keeps running: threads in the same state
with the same stack grouped into one entry, how long they have waited,
what they wait for and who holds it, and the backtrace. It waits up to
GREENIFY_DUMP_TIMEOUT seconds (default 10) for the answer.

Options:
  -s, --stack-size SIZE   default green stack size (e.g. 64k, 1m)
      --stats             print a summary line at exit
      --monitor MS        name, on stderr, what blocked every thread for MS
                          milliseconds or more (GREENIFY_MONITOR)
  -l, --log LEVEL         error, warn, info or debug
      --ucontext          use the portable ucontext switch
  -h, --help              show this help and exit
  -V, --version           show the version and exit

Every GREENIFY_* variable of the environment is honoured too (see
greenify(1) or README).
USAGE
}

here=$(cd "$(dirname "$0")" && pwd)
lib=
for cand in "$here/libgreenify.so" "$here/../lib/libgreenify.so"; do
	if [ -f "$cand" ]; then
		lib=$cand
		break
	fi
done

if [ "${1:-}" = dump ]; then
	[ $# -eq 2 ] || { echo "greenify: dump needs a PID" >&2; exit 2; }
	for client in "$here/greenify-dump" "$here/../share/greenify/greenify-dump"; do
		[ -x "$client" ] && exec "$client" "$2" "${GREENIFY_DUMP_TIMEOUT:-10}"
	done
	echo "greenify: cannot find greenify-dump next to $0 or in ../share/greenify" >&2
	exit 127
fi

while [ $# -gt 0 ]; do
	case "$1" in
	-h | --help) usage; exit 0 ;;
	-V | --version) echo "greenify @VERSION@"; exit 0 ;;
	--audit)
		shift
		[ $# -ge 1 ] || { echo "greenify: --audit needs a program" >&2; exit 2; }
		for audit in "$here/greenify-audit" "$here/../share/greenify/greenify-audit"; do
			[ -f "$audit" ] && exec python3 "$audit" "$@"
		done
		echo "greenify: cannot find greenify-audit next to $0 or in ../share/greenify" >&2
		exit 127 ;;
	-s | --stack-size)
		[ $# -ge 2 ] || { echo "greenify: $1 needs a size" >&2; exit 2; }
		GREENIFY_STACK_SIZE=$2; export GREENIFY_STACK_SIZE; shift 2 ;;
	--stats) GREENIFY_STATS=1; export GREENIFY_STATS; shift ;;
	--monitor)
		[ $# -ge 2 ] || { echo "greenify: $1 needs milliseconds" >&2; exit 2; }
		GREENIFY_MONITOR=$2; export GREENIFY_MONITOR; shift 2 ;;
	-l | --log)
		[ $# -ge 2 ] || { echo "greenify: $1 needs a level" >&2; exit 2; }
		GREENIFY_LOG=$2; export GREENIFY_LOG; shift 2 ;;
	--ucontext) GREENIFY_SWITCH=ucontext; export GREENIFY_SWITCH; shift ;;
	--) shift; break ;;
	-*) echo "greenify: unknown option '$1' (try --help)" >&2; exit 2 ;;
	*) break ;;
	esac
done

if [ $# -eq 0 ]; then
	usage >&2
	exit 2
fi
if [ -z "$lib" ]; then
	echo "greenify: cannot find libgreenify.so next to $0 or in ../lib" >&2
	exit 127
fi
LD_PRELOAD="$lib${LD_PRELOAD:+ $LD_PRELOAD}"
export LD_PRELOAD
exec "$@"
