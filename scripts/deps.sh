#!/bin/sh
# Install the Debian packages greenify needs, and nothing when they are present.
# Usage: scripts/deps.sh [build|test|demo|bench|lint]...   (default: build)
# Called by `make test`, `make demo` and `make lint`; safe to run by hand.
set -eu

# build: libuv comes from Debian's source package (scripts/libuv.sh, with
# curl; dpkg-source is build-essential's), compiled into the library.
# libuv1-dev (test, demo, bench) is the system's libuv, for the test program
# that uses one of its own and for the echo reference server.
# libdw-dev (build): the header of the backtraces in greenify dump, and
# libdw1, which a dump loads (runtime/backtrace.c).
want="build-essential pkg-config check curl libdw-dev"
# Packages of the arm64 foreign architecture: on an x86_64 host, `make test`
# cross-builds the whole library (and libuv from the same source) and runs
# integration programs under qemu-user, whose guest finds its libraries in
# the multiarch directories (the *-arm64-cross packages keep theirs apart).
foreign=""
for role in "${@:-build}"; do
	case "$role" in
	build) ;;
	test)
		want="$want libuv1-dev g++ python3 qemu-user gcc-aarch64-linux-gnu libc6-dev-arm64-cross valgrind iperf siege rustc"
		# Debian's privoxy (tests/run-privoxy.sh); libaio and liburing, which
		# the AIO test loads; Node.js (tests/run-node.sh: V8's JIT code).
		want="$want privoxy libaio1 liburing2 nodejs"
		if [ "$(uname -m)" = x86_64 ]; then
			want="$want g++-aarch64-linux-gnu"
			foreign="libc6-dev:arm64 libstdc++6:arm64"
		fi
		;;
	demo) want="$want libuv1-dev gnuplot-nox python3 python3-gevent golang-go" ;;
	bench) want="$want libuv1-dev gnuplot-nox python3 python3-gevent golang-go rt-tests hyperfine strace mariadb-server sysbench" ;;
	lint) want="$want clang-format cppcheck shellcheck" ;;
	*) echo "deps.sh: unknown role '$role'" >&2; exit 2 ;;
	esac
done

missing=""
for p in $want $foreign; do
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
		missing="$missing $p"
	fi
done
add_arch=""
if [ -n "$foreign" ] && ! dpkg --print-foreign-architectures | grep -qx arm64; then
	add_arch=arm64
fi
[ -z "$missing" ] && [ -z "$add_arch" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	SUDO=sudo
else
	SUDO=
fi
if [ -n "$add_arch" ]; then
	echo "deps.sh: adding the $add_arch foreign architecture" >&2
	$SUDO dpkg --add-architecture "$add_arch"
fi
echo "deps.sh: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >&2
# shellcheck disable=SC2086 # word splitting of the package list is intended
$SUDO apt-get install -y -qq --no-install-recommends $missing >&2
