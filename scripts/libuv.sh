#!/bin/sh
# Fetch and unpack the libuv that greenify links into libgreenify.so: Debian
# 12's own source package, libuv1 1.44.2-1+deb12u1, with Debian's patches
# (the CVE-2024-24806 fix in idna.c, the zero st_size fix in fs.c; the rest
# touch tests only). The Makefile compiles it, position-independent and
# with hidden symbols, so that greenify has a loop and a thread pool of its
# own and never binds to, or is bound by, a libuv the program brings.
#
# Usage: scripts/libuv.sh DIR
#   Downloads the .dsc, the upstream tarball and the Debian tarball into
#   DIR/dl (kept: a second run needs no network), checks each against the
#   sha256 below, and unpacks with dpkg-source (which applies the patches)
#   into DIR/libuv1-1.44.2, then writes DIR/libuv1-1.44.2/.unpacked.
#   Nothing is done when that stamp is there.
set -eu

VERSION=1.44.2-1+deb12u1
UPSTREAM=1.44.2
POOL=http://deb.debian.org/debian/pool/main/libu/libuv1
# name sha256
FILES="libuv1_$VERSION.dsc 798be0a2bcbcd40bb85302f6ccbf02b240e1958d4ad9cf153b8101c3a82f21b9
libuv1_$UPSTREAM.orig.tar.gz d79b4b06ef04be85fb890bf39d55942cc64c2e15fd14eaa32dae5dce94485484
libuv1_$VERSION.debian.tar.xz 14fc605e7d1520137416fd8c097b58a191be9b07bdbb406f7b39c7894b7d66a5"

if [ $# -ne 1 ]; then
	echo "usage: $0 DIR" >&2
	exit 2
fi
dir=$1
src=$dir/libuv1-$UPSTREAM
[ -f "$src/.unpacked" ] && exit 0

fetch() { # URL FILE
	if command -v curl >/dev/null 2>&1; then
		curl -fsS --retry 3 -m 300 -o "$2" "$1"
	elif command -v wget >/dev/null 2>&1; then
		wget -q -T 300 -t 3 -O "$2" "$1"
	else
		echo "libuv.sh: neither curl nor wget (scripts/deps.sh build installs curl)" >&2
		return 1
	fi
}

mkdir -p "$dir/dl"
echo "$FILES" | while read -r name sum; do
	f=$dir/dl/$name
	if [ -f "$f" ] && echo "$sum  $f" | sha256sum -c --status; then
		continue
	fi
	echo "libuv.sh: downloading $POOL/$name" >&2
	rm -f "$f.part"
	if ! fetch "$POOL/$name" "$f.part"; then
		echo "libuv.sh: cannot download $POOL/$name" >&2
		exit 1
	fi
	if ! echo "$sum  $f.part" | sha256sum -c --status; then
		echo "libuv.sh: $name: sha256 is not $sum" >&2
		rm -f "$f.part"
		exit 1
	fi
	mv "$f.part" "$f"
done

rm -rf "$src"
# dpkg-source checks the tarballs against the .dsc's checksums too and
# applies debian/patches in the order of their series. The signature is
# not checked (no keyring needed): the sha256 above pin every byte.
(cd "$dir/dl" && dpkg-source --no-check -x "libuv1_$VERSION.dsc" "../libuv1-$UPSTREAM" >/dev/null)
rm -f "$dir/libuv1_$UPSTREAM.orig.tar.gz" # dpkg-source's copy beside the tree
for f in src/idna.c src/unix/fs.c include/uv.h; do
	[ -f "$src/$f" ] || {
		echo "libuv.sh: $src/$f missing after unpacking" >&2
		exit 1
	}
done
touch "$src/.unpacked"
