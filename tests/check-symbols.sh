#!/bin/sh
# The library exports exactly the hooks listed in tests/exported-symbols.txt:
# nothing of the runtime leaks (it is built with -fvisibility=hidden), and no
# hook silently goes missing or gets renamed (a _FILE_OFFSET_BITS=64 build
# would turn open into open64). And libuv is inside: no uv_ symbol defined
# or wanted, no libuv.so among the libraries it needs, so greenify's loop
# and pool never meet a libuv the program uses.
set -eu
lib=$1
want=$2
got=$(mktemp)
trap 'rm -f "$got"' EXIT
nm -D --defined-only "$lib" | awk '$2 ~ /^[TWiV]$/ { print $3 }' | sed 's/@.*//' | sort -u >"$got"
failed=0
if diff -u "$want" "$got"; then
	echo "check-symbols: $(wc -l <"$got") exported symbols as listed"
else
	echo "check-symbols: exported symbols differ from $want (- listed, + exported)"
	failed=1
fi
uv=$(nm -D "$lib" | awk '$NF ~ /^uv_/ { print $NF }' | head -n 3)
needed=$(readelf -d "$lib" | grep -o 'Shared library: \[libuv[^]]*\]' || true)
if [ -n "$uv$needed" ]; then
	echo "check-symbols: libuv is not inside the library: $uv $needed"
	failed=$((failed + 1))
else
	echo "check-symbols: no uv_ symbol, no libuv.so needed"
fi
echo "check-symbols: $((2 - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
