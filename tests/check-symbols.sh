#!/bin/sh
# The library exports exactly the hooks listed in tests/exported-symbols.txt:
# nothing of the runtime leaks (it is built with -fvisibility=hidden), and no
# hook silently goes missing or gets renamed (a _FILE_OFFSET_BITS=64 build
# would turn open into open64).
set -eu
lib=$1
want=$2
got=$(mktemp)
trap 'rm -f "$got"' EXIT
nm -D --defined-only "$lib" | awk '$2 ~ /^[TWiV]$/ { print $3 }' | sed 's/@.*//' | sort -u >"$got"
if diff -u "$want" "$got"; then
	echo "check-symbols: $(wc -l <"$got") exported symbols as listed: 1 passed, 0 failed"
else
	echo "check-symbols: exported symbols differ from $want (- listed, + exported): 0 passed, 1 failed"
	exit 1
fi
