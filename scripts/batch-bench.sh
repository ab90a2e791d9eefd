#!/usr/bin/env bash
# Times `analyze` on 100 support bundles in one batch against 100 runs one at a time.
# The bundles are .tar.gz archives of testdata/bundles/ (each packed once, then named
# 100 times round-robin) in a temporary directory that is removed at the end.
#
#   scripts/batch-bench.sh [BINARY]   (default target/release/kubectl-dssc_doctor)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/release/kubectl-dssc_doctor}
[ -x "$bin" ] || { echo "no $bin: cargo build --release first" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
names=()
for b in testdata/bundles/*/; do
  n=$(basename "$b")
  tar -czf "$tmp/$n.tar.gz" -C testdata/bundles "$n"
  names+=("$n")
done
paths=()
for i in $(seq 0 99); do
  n=${names[$((i % ${#names[@]}))]}
  # A distinct name per ticket (a hard link: no extra space).
  ln "$tmp/$n.tar.gz" "$tmp/ticket-$i.tar.gz"
  paths+=("$tmp/ticket-$i.tar.gz")
done
now() { date +%s.%N; }
runs=${RUNS:-3}
for r in $(seq 1 "$runs"); do
  t0=$(now)
  "$bin" analyze "${paths[@]}" -o json >"$tmp/batch.jsonl" || true
  t1=$(now)
  for p in "${paths[@]}"; do "$bin" analyze "$p" -o json >/dev/null || true; done
  t2=$(now)
  t3=$(now)
  "$bin" analyze -j 1 "${paths[@]}" -o json >/dev/null || true
  t4=$(now)
  lines=$(wc -l <"$tmp/batch.jsonl")
  printf 'run %d: batch %.2fs (%d lines), batch -j 1 %.2fs, one at a time %.2fs\n' \
    "$r" "$(echo "$t1 - $t0" | bc)" "$lines" "$(echo "$t4 - $t3" | bc)" "$(echo "$t2 - $t1" | bc)"
done
