#!/usr/bin/env bash
# convert qcow2->raw, ours and qemu-img's alternately, with a `sync` before each run, so that neither tool pays for the
# other's page-cache writeback (which makes single runs of either vary by 30-40 %). Prints each run and the medians.
# Usage: bench/convert-to-raw-alternating.sh [WORK_DIR]   (RUNS=5; needs WORK_DIR/data.qcow2 from data-verbs-vs-qemu-img.sh;
#        QCOW2_BIN=path uses an already published tool, default WORK_DIR/bin/qcow2 as that script publishes it)
set -euo pipefail
work=${1:-/tmp/qcow2-verbs-bench}
runs=${RUNS:-5}
ours=${QCOW2_BIN:-$work/bin/qcow2}
cd "$work"
[ -f data.qcow2 ] || { echo "no $work/data.qcow2: run bench/data-verbs-vs-qemu-img.sh first" >&2; exit 1; }
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
: > ours.times; : > qemu.times
for _ in $(seq "$runs"); do
  for tool in ours qemu; do
    rm -f out.raw; sync
    start=$(date +%s.%N)
    if [ "$tool" = ours ]; then "$ours" convert -O raw data.qcow2 out.raw; else qemu-img convert -O raw data.qcow2 out.raw; fi
    end=$(date +%s.%N)
    echo "$end - $start" | bc | tee -a "$tool.times" | sed "s/^/$tool /"
  done
done
o=$(median < ours.times); q=$(median < qemu.times)
echo "median: qcow2 $o s, qemu-img $q s, ratio $(echo "scale=2; $o / $q" | bc)"
rm -f out.raw ours.times qemu.times
