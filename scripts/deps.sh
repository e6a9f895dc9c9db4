#!/bin/sh
# Install the Debian packages greenify needs, and nothing when they are present.
# Usage: scripts/deps.sh [build|test|demo|bench]...   (default: build)
# Called by `make test` and `make demo`; safe to run by hand.
set -eu

want="build-essential pkg-config libuv1-dev check"
for role in "${@:-build}"; do
	case "$role" in
	build) ;;
	test) want="$want g++ python3 qemu-user gcc-aarch64-linux-gnu libc6-dev-arm64-cross valgrind iperf rustc" ;;
	demo) want="$want gnuplot-nox" ;;
	bench) want="$want gnuplot-nox python3-gevent golang-go" ;;
	*) echo "deps.sh: unknown role '$role'" >&2; exit 2 ;;
	esac
done

missing=""
for p in $want; do
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

echo "deps.sh: installing:$missing" >&2
if [ "$(id -u)" != 0 ]; then
	SUDO=sudo
else
	SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >&2
# shellcheck disable=SC2086 # word splitting of the package list is intended
$SUDO apt-get install -y -qq --no-install-recommends $missing >&2
