#!/bin/sh
# Renames test programs by a map, and every mention of them in the tree.
# MAPFILE has one "OLD NEW" pair a line (blank lines and "#" comments
# aside), each a bare program name ([a-z0-9_]). For each pair, every
# tracked file named OLD.EXT (any extension: .c, .cc, .py, .rs, ...) is
# moved with git mv to NEW.EXT beside it; a pair whose old file is gone (an
# earlier run, or a branch without it) moves nothing. Then every other
# tracked text file that names an old name as a whole word (the runners,
# the Makefile, tests/arch/integ-aarch64.txt, bench/RESULTS.md, the README,
# other tests) has it replaced with the new one; MAPFILE itself is left as
# it is. Nothing is committed: git status and git diff show the result.
# Usage: scripts/rename-tests.sh MAPFILE
set -eu

if [ $# -ne 1 ] || [ ! -f "$1" ]; then
	echo "usage: $0 MAPFILE" >&2
	exit 2
fi
map=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
top=$(git rev-parse --show-toplevel)
cd "$top"
case $map in
"$top"/*) map_rel=${map#"$top"/} ;;
*) map_rel= ;;
esac

pairs=$(mktemp)
trap 'rm -f "$pairs" "$pairs.sed" "$pairs.old"' EXIT
# The pairs, checked: two names a line, each a program name, no old name
# twice, no new name that is also an old one (a chain would depend on the
# order) or already taken by a tracked file.
sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$map" | awk -v me="$0: $1" '
	function bad(why) { printf "%s: %s\n", me, why > "/dev/stderr"; failed = 1 }
	NF != 2 { bad("want OLD NEW: " $0); next }
	$1 !~ /^[a-z0-9_]+$/ || $2 !~ /^[a-z0-9_]+$/ { bad("not a program name: " $0); next }
	$1 in old { bad($1 " named twice"); next }
	{ old[$1] = 1; new[$2] = 1; print $1, $2 }
	END {
		for (n in new)
			if (n in old)
				bad(n " is both a new and an old name")
		exit failed
	}' >"$pairs" || exit 2
[ -s "$pairs" ] || {
	echo "$0: $1: no pairs" >&2
	exit 2
}

moved=0
while read -r old new; do
	files=$(git ls-files | grep "\(^\|/\)$old\.[^/]*$" || true)
	[ -n "$files" ] || continue
	if git ls-files | grep -q "\(^\|/\)$new\.[^/]*$"; then
		echo "$0: $new: a file of that name exists already" >&2
		exit 1
	fi
	for f in $files; do
		dir=$(dirname "$f")
		base=$(basename "$f")
		git mv "$f" "$dir/$new${base#"$old"}"
		echo "moved $f -> $dir/$new${base#"$old"}"
		moved=$((moved + 1))
	done
done <"$pairs"

# One sed script for all pairs, whole words only (\< \>: a name followed by
# _more is another name and stays).
awk '{ printf "s/\\<%s\\>/%s/g\n", $1, $2 }' "$pairs" >"$pairs.sed"
awk '{ print $1 }' "$pairs" >"$pairs.old"
edited=0
for f in $(git grep -l -I -w -F -f "$pairs.old" -- . || true); do
	[ "$f" != "$map_rel" ] || continue
	sed -i -f "$pairs.sed" "$f"
	echo "edited $f"
	edited=$((edited + 1))
done
echo "$moved files moved, $edited files edited; nothing committed"
