# shellcheck shell=sh disable=SC2034 # the variables are for the scripts that source this
# The preamble the bench scripts share (scripts/bench-*.sh source it, in sh
# or bash): where things are, the raw file of this run, and the helpers.
#
#   bench_init NAME BUILD_DIR   sets build (absolute), lib (its
#                               libgreenify.so), bin (its bench/), root (the
#                               tree), out_dir (bench/results), stamp (the
#                               date), raw ($out_dir/NAME-$stamp.txt); makes
#                               out_dir; exits 2 if BUILD_DIR does not exist
#   bench_latest                copies raw to $out_dir/NAME-latest.txt
#   field LINE KEY              the value of KEY= in a result line
#   present ARGS...             scripts/present.py: the tables and figures

bench_scripts=$(cd "$(dirname "$0")" && pwd)

bench_init() { # NAME BUILD_DIR
	bench_name=$1
	build=$(cd "$2" 2>/dev/null && pwd) || {
		echo "$bench_name: no build directory '$2'" >&2
		exit 2
	}
	root=$(cd "$bench_scripts/.." && pwd)
	lib=$build/libgreenify.so
	bin=$build/bench
	out_dir=$root/bench/results
	stamp=$(date +%Y%m%d-%H%M%S)
	raw=$out_dir/$bench_name-$stamp.txt
	mkdir -p "$out_dir" || exit 1
}

bench_latest() {
	cp "$raw" "$out_dir/$bench_name-latest.txt"
}

field() { # LINE KEY
	printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"
}

present() {
	/usr/bin/python3 "$bench_scripts/present.py" "$@"
}
