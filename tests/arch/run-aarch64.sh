#!/bin/sh
# Runs the portable test of the context switch (tests/arch/switch_portable.c,
# built by the Makefile): the build for this host natively, which checks the
# test itself too, then, when given, the aarch64 cross build under qemu-user
# (both come from scripts/deps.sh test).
# Usage: tests/arch/run-aarch64.sh HOST_PROGRAM [AARCH64_PROGRAM]
set -eu
"$1"
[ $# -ge 2 ] || exit 0
if ! command -v qemu-aarch64 >/dev/null; then
	echo "test-aarch64: qemu-aarch64 missing (scripts/deps.sh test installs it): 0 passed, 1 failed"
	exit 1
fi
printf 'aarch64 under qemu: '
qemu-aarch64 -L /usr/aarch64-linux-gnu "$2"
