#!/bin/sh
# tests/check-symbols.sh LIB LIST [OBJECT...]
#
# The library exports exactly the hooks listed in LIST: nothing of the
# runtime leaks (it is built with -fvisibility=hidden), and no hook silently
# goes missing or gets renamed (a _FILE_OFFSET_BITS=64 build would turn open
# into open64).
#
# And the layers hold: no OBJECT (the runtime's and arch's) leaves a name of
# LIST undefined. In the library such a call binds to our own hook, not to
# libc: the runtime would re-enter itself. They call gr_real.X or make the
# system call themselves.
#
# And libuv is inside: no uv_ symbol defined or wanted, no libuv.so among
# the libraries it needs, so greenify's loop and pool never meet a libuv the
# program uses.
set -eu
lib=$1
want=$2
shift 2
got=$(mktemp)
bad=$(mktemp)
trap 'rm -f "$got" "$bad"' EXIT
pass=0
fail=0
nm -D --defined-only "$lib" | awk '$2 ~ /^[TWiV]$/ { print $3 }' | sed 's/@.*//' | sort -u >"$got"
if diff -u "$want" "$got"; then
	echo "check-symbols: $(wc -l <"$got") exported symbols as listed"
	pass=$((pass + 1))
else
	echo "check-symbols: exported symbols differ from $want (- listed, + exported)"
	fail=$((fail + 1))
fi
if [ $# -gt 0 ]; then
	for o in "$@"; do
		nm -u "$o" | awk 'NF { print $NF }' | sed 's/@.*//' | grep -xFf "$want" |
			sed "s|^|$o calls the hook |" >>"$bad" || true
	done
	if [ -s "$bad" ]; then
		cat "$bad"
		echo "check-symbols: runtime/arch objects call exported hooks (use gr_real or a raw system call)"
		fail=$((fail + 1))
	else
		echo "check-symbols: $# runtime/arch objects call no exported hook"
		pass=$((pass + 1))
	fi
fi
uv=$(nm -D "$lib" | awk '$NF ~ /^uv_/ { print $NF }' | head -n 3)
needed=$(readelf -d "$lib" | grep -o 'Shared library: \[libuv[^]]*\]' || true)
if [ -n "$uv$needed" ]; then
	echo "check-symbols: libuv is not inside the library: $uv $needed"
	fail=$((fail + 1))
else
	echo "check-symbols: no uv_ symbol, no libuv.so needed"
	pass=$((pass + 1))
fi
echo "check-symbols: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
