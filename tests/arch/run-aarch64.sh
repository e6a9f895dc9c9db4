#!/bin/sh
# Cross-builds the aarch64 context switch with its portable test and runs it
# under qemu-user (both come from scripts/deps.sh test). The x86_64 build of
# the same test runs natively first, so the test itself is checked too.
set -eu
build=${1:-build}
out=$build/tests/arch
mkdir -p "$out"
src="tests/arch/switch_portable.c arch/ctx.c"
flags="-std=gnu11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE"

if [ "$(uname -m)" = x86_64 ]; then
	# shellcheck disable=SC2086 # the lists split into files and flags on purpose
	cc $flags -o "$out/switch_native" $src arch/x86_64.c arch/x86_64.S -lm
	"$out/switch_native"
fi

if ! command -v aarch64-linux-gnu-gcc >/dev/null || ! command -v qemu-aarch64 >/dev/null; then
	echo "test-aarch64: aarch64-linux-gnu-gcc or qemu-aarch64 missing (scripts/deps.sh test installs them): 0 passed, 1 failed"
	exit 1
fi
# shellcheck disable=SC2086
aarch64-linux-gnu-gcc $flags -o "$out/switch_aarch64" $src arch/aarch64.c arch/aarch64.S -lm
printf 'aarch64 under qemu: '
qemu-aarch64 -L /usr/aarch64-linux-gnu "$out/switch_aarch64"
