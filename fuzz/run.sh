#!/usr/bin/env bash
# Runs every built libFuzzer target for a short time over its seed corpus
# (fuzz/corpus/<name>/), in a scratch copy so that seeds stay as committed.
# usage: fuzz/run.sh BUILD_DIR SECONDS
set -euo pipefail
build=${1:?build dir}
secs=${2:-20}
src=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
n=0
for f in "$build"/fuzz_*; do
	[ -x "$f" ] || continue
	name=$(basename "$f"); name=${name#fuzz_}
	mkdir -p "$work/$name"
	if [ -d "$src/corpus/$name" ]; then cp -r "$src/corpus/$name/." "$work/$name/"; fi
	echo "fuzz $name: ${secs}s"
	"$f" -max_total_time="$secs" -rss_limit_mb=2048 -print_final_stats=1 \
		"$work/$name" 2>"$work/$name.log" || { tail -50 "$work/$name.log"; exit 1; }
	grep -E 'stat::number_of_executed_units' "$work/$name.log" || true
	n=$((n+1))
done
echo "fuzz: $n targets ran without a crash"
