#!/usr/bin/env bash
# The other metadata walks side by side with qemu-img: peak RSS (median of RUNS runs, /usr/bin/time) of a preallocating grow
# to 1 TiB (64 KiB clusters), a shrink from 16 GiB to 1 GiB (4 KiB clusters, metadata preallocated) with the allocated
# size it leaves on disk, and `bitmap --clear` of a bitmap dirtied over 4 GiB; each run on a fresh copy of the image.
# Usage: bench/resize-vs-qemu-img.sh [WORK_DIR]   (QCOW2_BIN=path uses an already published tool)
set -euo pipefail
work=${1:-/tmp/qcow2-resize-bench}
runs=${RUNS:-3}
root=$(cd "$(dirname "$0")/.." && pwd)
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
mkdir -p "$work"
ours=${QCOW2_BIN:-$work/aot/qcow2}
[ -n "${QCOW2_BIN:-}" ] || dotnet publish "$root/src/Qcow2.Tool" -c Release -r linux-x64 -o "$work/aot" >/dev/null
cd "$work"
[ -f grow.qcow2 ] || qemu-img create -q -f qcow2 grow.qcow2 1G
[ -f shrink.qcow2 ] || qemu-img create -q -f qcow2 -o preallocation=metadata,cluster_size=4096 shrink.qcow2 16G
if [ ! -f bitmap.qcow2 ]; then
  qemu-img create -q -f qcow2 bitmap.qcow2 4G
  qemu-img bitmap --add bitmap.qcow2 bm0
  # QEMU loads the persistent bitmap, records the writes and stores it on close.
  for i in 0 1 2 3 4 5 6 7; do qemu-io -f qcow2 -c "write -P 0x5a $((i * 512))M 512M" bitmap.qcow2 >/dev/null; done
fi

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# peak_rss IMAGE COMMAND...: peak RSS in KiB of COMMAND run on a fresh copy of IMAGE named run.qcow2; leaves the copy.
peak_rss() {
  local image=$1; shift
  rm -f run.qcow2; cp --sparse=always "$image" run.qcow2
  /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -n 1
}
row() { # name image ours-args... -- qemu-args...
  local name=$1 image=$2; shift 2
  local ours_args=() qemu_args=()
  while [ "$1" != "--" ]; do ours_args+=("$1"); shift; done; shift
  qemu_args=("$@")
  : >ours.kb; : >qemu.kb
  for _ in $(seq "$runs"); do
    peak_rss "$image" "$ours" "${ours_args[@]}" >>ours.kb; ours_disk=$(du -k run.qcow2 | cut -f1)
    peak_rss "$image" qemu-img "${qemu_args[@]}" >>qemu.kb; qemu_disk=$(du -k run.qcow2 | cut -f1)
  done
  local o q; o=$(median <ours.kb); q=$(median <qemu.kb)
  python3 -c "print(f'| $name | {$q / 1024:.1f} MiB | {$o / 1024:.1f} MiB | {$o / $q:.2f} | {$qemu_disk / 1024:.1f} MiB | {$ours_disk / 1024:.1f} MiB | {$ours_disk / $qemu_disk:.2f} |')"
}

echo "| operation | qemu-img peak RSS | qcow2 peak RSS | RSS ratio | qemu-img: allocated on disk after | qcow2: allocated on disk after | disk ratio |"
echo "|---|---|---|---|---|---|---|"
row "resize --preallocation=metadata 1G → 1T (64 KiB clusters)" grow.qcow2 resize -q --preallocation=metadata run.qcow2 1T -- resize -q --preallocation=metadata run.qcow2 1T
row "resize --shrink 16G → 1G (4 KiB clusters, metadata preallocated)" shrink.qcow2 resize -q --shrink run.qcow2 1G -- resize -q --shrink run.qcow2 1G
row "bitmap --clear, 4 GiB dirty (64 KiB granularity)" bitmap.qcow2 bitmap --clear run.qcow2 bm0 -- bitmap --clear run.qcow2 bm0
rm -f run.qcow2 ours.kb qemu.kb
