#!/bin/sh
# Runs an aarch64 program under qemu-user: the INTEG_RUNNER of
# tests/run-integ.sh for the cross-built library (make test-aarch64).
# The guest sees the host's root (-L /: its loader and the arm64 multiarch
# libraries that scripts/deps.sh test installs) and this environment, plus
# LD_PRELOAD=$GUEST_LD_PRELOAD when that is set. The preloaded library is an
# aarch64 one: it must reach the guest only, never the host's qemu nor this
# shell, whose x86_64 loader cannot load it (and says so on stderr), which is
# why it does not come as LD_PRELOAD.
# Usage: [GUEST_LD_PRELOAD=LIB] tests/arch/qemu-aarch64.sh PROG [ARG...]
set -eu
unset LD_PRELOAD
if [ -n "${GUEST_LD_PRELOAD-}" ]; then
	lib=$GUEST_LD_PRELOAD
	unset GUEST_LD_PRELOAD
	exec qemu-aarch64 -L / -E "LD_PRELOAD=$lib" "$@"
fi
exec qemu-aarch64 -L / "$@"
