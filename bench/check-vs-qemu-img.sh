#!/usr/bin/env bash
# Side by side: the NativeAOT-published `qcow2 check` against `qemu-img check` on the same images.
# Prints a markdown table of median wall times (hyperfine) and median peak RSS (/usr/bin/time), with ratios.
# Usage: bench/check-vs-qemu-img.sh [WORK_DIR]   (RUNS=N to change the number of timed runs; images are kept for reuse)
set -euo pipefail
work=${1:-/tmp/qcow2-bench}
runs=${RUNS:-15}
root=$(cd "$(dirname "$0")/.." && pwd)
for tool in hyperfine qemu-img qemu-io python3; do
  command -v "$tool" >/dev/null || { echo "needs $tool (apt-get install hyperfine qemu-utils python3)" >&2; exit 1; }
done
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 1; }

mkdir -p "$work"
dotnet publish "$root/src/Qcow2.Tool" -c Release -r linux-x64 -o "$work/aot" >/dev/null
ours="$work/aot/qcow2"
cd "$work"
# 16 GiB, 4 KiB clusters, metadata preallocated: 4,194,304 allocated clusters, about 40 MB on disk.
[ -f meta4k.qcow2 ] || qemu-img create -q -f qcow2 -o preallocation=metadata,cluster_size=4096 meta4k.qcow2 16G
# 64 KiB clusters with 4 GiB of written data.
if [ ! -f data64k.qcow2 ]; then
  qemu-img create -q -f qcow2 data64k.qcow2 8G
  for i in 0 1 2 3; do qemu-io -c "write -P 0x5a $((i * 1024))M 1G" data64k.qcow2 >/dev/null; done
fi

peak_rss_kb() { # median of 5 runs
  for _ in 1 2 3 4 5; do /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -n 1; done | sort -n | sed -n 3p
}

echo "| image | qemu-img check (median) | qcow2 check (median) | time ratio | qemu-img peak RSS | qcow2 peak RSS | memory ratio |"
echo "|---|---|---|---|---|---|---|"
for image in meta4k.qcow2 data64k.qcow2; do
  hyperfine -N --warmup 3 --runs "$runs" --export-json hyperfine.json "qemu-img check $image" "$ours check $image" >/dev/null
  read -r qemu_ms ours_ms < <(python3 -c "import json; r = json.load(open('hyperfine.json'))['results']; print(r[0]['median'] * 1000, r[1]['median'] * 1000)")
  qemu_kb=$(peak_rss_kb qemu-img check "$image")
  ours_kb=$(peak_rss_kb "$ours" check "$image")
  python3 -c "print(f'| $image | {$qemu_ms:.1f} ms | {$ours_ms:.1f} ms | {$ours_ms / $qemu_ms:.2f} | {$qemu_kb / 1024:.1f} MiB | {$ours_kb / 1024:.1f} MiB | {$ours_kb / $qemu_kb:.2f} |')"
done
