#!/usr/bin/env bash
# Side by side: the NativeAOT-published `qcow2 snapshot -c/-d` and `qcow2 amend -o refcount_bits=64` against qemu-img's on a
# 16 GiB image with 4 KiB clusters and metadata preallocated (4,194,304 allocated clusters: every one gains or loses a
# reference, or has its refcount rewritten at the new width).
# Prints a markdown table of median wall times (hyperfine; each run on a fresh copy) with ratios.
# Usage: bench/snapshot-vs-qemu-img.sh [WORK_DIR]   (RUNS=N to change the number of timed runs; images are kept for reuse)
set -euo pipefail
work=${1:-/tmp/qcow2-bench}
runs=${RUNS:-10}
root=$(cd "$(dirname "$0")/.." && pwd)
for tool in hyperfine qemu-img python3; do
  command -v "$tool" >/dev/null || { echo "needs $tool (apt-get install hyperfine qemu-utils python3)" >&2; exit 1; }
done

mkdir -p "$work"
dotnet publish "$root/src/Qcow2.Tool" -c Release -r linux-x64 -o "$work/aot" >/dev/null
ours="$work/aot/qcow2"
cd "$work"
[ -f meta4k.qcow2 ] || qemu-img create -q -f qcow2 -o preallocation=metadata,cluster_size=4096 meta4k.qcow2 16G
if [ ! -f meta4k-snap.qcow2 ]; then
  cp meta4k.qcow2 meta4k-snap.qcow2
  qemu-img snapshot -c s meta4k-snap.qcow2
fi

echo "| operation | qemu-img (median) | qcow2 (median) | ratio |"
echo "|---|---|---|---|"
measure() { # label, source image, qemu-img arguments (the copy made by --prepare is not timed)
  local label=$1 source=$2
  shift 2
  hyperfine -N --runs "$runs" --prepare "cp $source run.qcow2" --export-json hyperfine.json \
    "qemu-img $* run.qcow2" "$ours $* run.qcow2" >/dev/null
  python3 -c "import json; r = json.load(open('hyperfine.json'))['results']; q, o = r[0]['median'] * 1000, r[1]['median'] * 1000; print(f'| $label | {q:.0f} ms | {o:.0f} ms | {o / q:.2f} |')"
}
measure "snapshot -c (create)" meta4k.qcow2 snapshot -c s
measure "snapshot -d (delete)" meta4k-snap.qcow2 snapshot -d s
measure "amend -o refcount_bits=64" meta4k.qcow2 amend -o refcount_bits=64
rm -f run.qcow2 hyperfine.json
