#!/usr/bin/env bash
# Guest data side by side with QEMU, on one 4 GiB image of allocated data (64 KiB clusters):
#   sequential read: our Stream in 1 MiB blocks vs `qemu-img convert` to its discarding null-co driver vs `cat` of the file;
#   4 KiB reads and writes: COUNT requests at offsets i * STEP mod size vs `qemu-img bench` with the same count, size, step,
#   queue depth 1 and the page cache (-t writeback), which is what our synchronous calls use. Both sides time the requests
#   only (qemu-img bench's "Run completed in", our own stopwatch); the sequential reads are timed as whole processes.
# Prints a markdown table of medians of RUNS runs (default 5) with ratios (ours / theirs).
# Usage: bench/guest-data-vs-qemu-img.sh [WORK_DIR]   (the image is kept there for reuse; it needs 4 GiB of disk)
set -euo pipefail
work=${1:-/tmp/qcow2-guest-bench}
runs=${RUNS:-5}
count=${COUNT:-100000}
step=${STEP:-1052672} # 1 MiB + 4 KiB: every request in another cluster and L2 region
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$work"
dotnet publish "$root/bench/Qcow2.GuestDataBench" -c Release -o "$work/bin" >/dev/null
ours="$work/bin/qcow2-guest-bench"
cd "$work"
if [ ! -f data4g.qcow2 ]; then
  qemu-img create -q -f qcow2 data4g.qcow2 4G
  for i in 0 1 2 3; do qemu-io -f qcow2 -c "write -P 0x5a $((i * 1024))M 1G" data4g.qcow2 >/dev/null; done
fi
cat data4g.qcow2 >/dev/null # warm the page cache once for everyone

seconds() { local start end; start=$(date +%s.%N); "$@" >/dev/null; end=$(date +%s.%N); echo "$end - $start" | bc; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
ratio() { echo "scale=2; $1 / $2" | bc; }
size=$(qemu-img info --output=json data4g.qcow2 | python3 -c 'import json, sys; print(json.load(sys.stdin)["virtual-size"])')
# qemu-img convert cannot write a raw /dev/null ("Cannot grow device files"); its null-co driver discards what it is given.
qemu_seq() { qemu-img convert -n -f qcow2 data4g.qcow2 --target-image-opts "driver=null-co,size=$size"; }
ours_request() { "$ours" "$@" | cut -d' ' -f1; }
qemu_request() { qemu-img bench "$@" | sed -n 's/.*completed in \([0-9.]*\) seconds.*/\1/p'; }

# Alternate the contenders inside each round, so that a noisy neighbour slows both sides alike.
: >seq_ours; : >seq_qemu; : >seq_cat; : >read_ours; : >read_qemu; : >write_ours; : >write_qemu
for _ in $(seq "$runs"); do
  seconds "$ours" seq data4g.qcow2 >>seq_ours
  seconds qemu_seq >>seq_qemu
  seconds cat data4g.qcow2 >>seq_cat
  ours_request read data4g.qcow2 "$count" "$step" >>read_ours
  qemu_request -f qcow2 -t writeback -d 1 -c "$count" -s 4096 -S "$step" data4g.qcow2 >>read_qemu
  cp --reflink=auto data4g.qcow2 write.qcow2
  ours_request write write.qcow2 "$count" "$step" >>write_ours
  cp --reflink=auto data4g.qcow2 write.qcow2
  qemu_request -f qcow2 -w -t writeback -d 1 -c "$count" -s 4096 -S "$step" write.qcow2 >>write_qemu
done
rm -f write.qcow2
for name in seq_ours seq_qemu seq_cat read_ours read_qemu write_ours write_qemu; do
  declare "$name=$(median <"$name")"
done

echo "| workload | qcow2 library (median s) | reference (median s) | ratio |"
echo "|---|---|---|---|"
echo "| sequential read 4 GiB, Stream 1 MiB blocks vs qemu-img convert to null-co | $seq_ours | $seq_qemu | $(ratio "$seq_ours" "$seq_qemu") |"
echo "| sequential read 4 GiB vs cat (page-cache limit) | $seq_ours | $seq_cat | $(ratio "$seq_ours" "$seq_cat") |"
echo "| $count random 4 KiB reads vs qemu-img bench | $read_ours | $read_qemu | $(ratio "$read_ours" "$read_qemu") |"
echo "| $count random 4 KiB writes vs qemu-img bench -w | $write_ours | $write_qemu | $(ratio "$write_ours" "$write_qemu") |"
