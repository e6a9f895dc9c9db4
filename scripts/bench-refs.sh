#!/bin/sh
# Prog 1 and Prog 2 in Go (goroutines), gevent (greenlets) and Python threads,
# next to native pthreads and greenify, for N = 1K, 10K, 100K and 1M where it
# makes sense. Each reference is skipped with a warning when its toolchain is
# missing (packages golang-go, python3-gevent; scripts/deps.sh bench).
#
#   scripts/bench-refs.sh BUILD_DIR
#
# It is the demo's machinery with more columns, so it lives in demo.sh.
exec "$(dirname "$0")/demo.sh" --refs "$@"
