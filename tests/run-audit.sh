#!/bin/sh
# The catalogue of blocking calls (preload/catalogue.tsv) and the audit
# built on it (greenify --audit):
#   - every call the catalogue says is green or on the pool is caught by a
#     symbol libgreenify.so exports, but the stdio calls it says are green
#     through libc's jump tables alone, which have no hook;
#   - the README's table is the catalogue's;
#   - the audit of a fortified test program lists its __read_chk... as
#     green and exits 0; of a C11 program (tests/audit/c11_mtx_lock.c)
#     its mtx_lock as green, exit 0;
#     of a program importing a call the catalogue marks as not handled (a
#     copy of the catalogue that says so), it names it and exits 1;
#   - over every ELF file in /usr/bin and /usr/sbin of this machine, no
#     imported blocking function is NOT HANDLED (the pending ones, which
#     another stream of work handles, are named).
# The programs it audits are built by the Makefile (make audit); this
# script only runs and judges.
# Usage: tests/run-audit.sh BUILD_DIR
set -u
build=${1:-build}
here=$(cd "$(dirname "$0")/.." && pwd)
cat=$here/preload/catalogue.tsv
audit="$build/greenify --audit"
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0
pass() { passed=$((passed + 1)); echo "PASS audit: $1"; }
fail() {
	failed=$((failed + 1))
	echo "FAIL audit: $1"
	[ -s "$tmp/out" ] && sed -n '1,40s/^/    /p' "$tmp/out"
}

nm -D --defined-only "$build/libgreenify.so" | awk '$2 ~ /^[TWiV]$/ { print $3 }' |
	sed 's/@.*//' | sort -u >"$tmp/exported"
awk -F '\t' '!/^#/ && ($3 == "green" || $3 == "pool") && $4 != "libio" { print $4 }' "$cat" |
	sort -u >"$tmp/hooks"
comm -23 "$tmp/hooks" "$tmp/exported" >"$tmp/out"
if [ -s "$tmp/out" ]; then
	fail "green and pool calls whose hook libgreenify.so does not export:"
else
	pass "every green and pool call of the catalogue ($(wc -l <"$tmp/hooks") hooks) is exported"
fi
# A stdio call green through libc's jump tables alone ("libio") has no hook
# of its own: one that gets a hook must say so in the catalogue.
awk -F '\t' '!/^#/ && $4 == "libio" { print $1 }' "$cat" | sort -u >"$tmp/libio"
comm -12 "$tmp/libio" "$tmp/exported" >"$tmp/out"
if [ -s "$tmp/out" ]; then
	fail "calls the catalogue says have no hook of their own (libio) that libgreenify.so exports:"
else
	pass "the $(wc -l <"$tmp/libio") stdio calls green through the jump tables alone have no hook"
fi

if python3 "$build/greenify-audit" --catalogue "$cat" --check-readme "$here/README.md" >"$tmp/out" 2>&1; then
	pass "the README's table is the catalogue's"
else
	fail "the README's table differs from the catalogue (scripts/greenify-audit.py --readme makes it):"
fi

prog=$build/tests/integ/chk_fortified_reads_polls_park_only_caller
if $audit "$prog" >"$tmp/out" 2>&1 && grep -q '^green  *__read_chk ' "$tmp/out" &&
	grep -q '^green  *__poll_chk ' "$tmp/out" && grep -q ' 0 NOT HANDLED$' "$tmp/out"; then
	pass "a fortified program: __read_chk and __poll_chk green, exit 0"
else
	fail "a fortified program's audit:"
fi

c11=$build/tests/audit/c11_mtx_lock
if [ ! -x "$c11" ]; then
	: >"$tmp/out"
	fail "no $c11 (the Makefile builds it: make audit)"
else
	$audit "$c11" >"$tmp/out" 2>&1
	rc=$?
	if [ $rc -eq 0 ] && grep -q '^green  *mtx_lock ' "$tmp/out"; then
		pass "a program importing mtx_lock: green, exit 0"
	else
		fail "a program importing mtx_lock: exit $rc, expected 0 and a green line:"
	fi
	# A call the catalogue marks as not handled (none is now: a copy
	# that says so of mtx_lock) is named, and the audit exits 1.
	awk -F '\t' 'BEGIN { OFS = FS } $1 == "mtx_lock" { $3 = "unhandled"; $4 = "-" } { print }' \
		"$cat" >"$tmp/cat.tsv"
	python3 "$build/greenify-audit" --catalogue "$tmp/cat.tsv" "$c11" >"$tmp/out" 2>&1
	rc=$?
	if [ $rc -eq 1 ] && grep -q '^NOT HANDLED  *mtx_lock ' "$tmp/out"; then
		pass "a program importing a call marked not handled: NOT HANDLED, exit 1"
	else
		fail "a program importing a call marked not handled: exit $rc, expected 1 and a NOT HANDLED line:"
	fi
fi

python3 "$build/greenify-audit" --catalogue "$cat" --many /usr/bin/* /usr/sbin/* >"$tmp/out" 2>&1
rc=$?
cat "$tmp/out"
if [ $rc -eq 0 ] && tail -n 1 "$tmp/out" | grep -q ' 0 NOT HANDLED$'; then
	pass "every ELF file in /usr/bin and /usr/sbin: nothing NOT HANDLED"
else
	fail "/usr/bin and /usr/sbin import calls greenify does not handle:"
fi

echo "audit: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
