#!/usr/bin/env bash
# Side by side: the NativeAOT-published `qcow2 check` against `qemu-img check` on the same images, and against the floor
# for any check: reading the metadata it walks (L2 tables and refcount blocks, once, in file order; bench/read-metadata.py).
# Prints a markdown table of median wall times (hyperfine), median peak RSS (/usr/bin/time) and the ratios.
# Usage: bench/check-vs-qemu-img.sh [WORK_DIR]   (RUNS=N to change the number of timed runs; images are kept for reuse;
# IMAGES_ONLY=1 builds the images and stops; BASELINE=path/to/an/older/qcow2 adds its time and peak RSS for comparison)
set -euo pipefail
work=${1:-/tmp/qcow2-bench}
runs=${RUNS:-10}
root=$(cd "$(dirname "$0")/.." && pwd)
for tool in hyperfine qemu-img qemu-io python3; do
  command -v "$tool" >/dev/null || { echo "needs $tool (apt-get install hyperfine qemu-utils python3)" >&2; exit 1; }
done
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 1; }

mkdir -p "$work"
cd "$work"
# 4 KiB clusters, metadata preallocated: 1 M, 4 M and 16 M allocated clusters (4, 16 and 64 GiB).
for size in 4 16 64; do
  [ -f "meta4k-${size}G.qcow2" ] || qemu-img create -q -f qcow2 -o preallocation=metadata,cluster_size=4096 "meta4k-${size}G.qcow2" "${size}G"
done
# 64 KiB clusters, 8 GiB of data in 64 KiB writes scattered in a random order over 64 GiB, so L2 tables lie between data.
if [ ! -f scattered64k.qcow2 ]; then
  qemu-img create -q -f qcow2 scattered64k.tmp 64G
  python3 -c "
import random
random.seed(1)
slots = random.sample(range(1 << 20), 1 << 17)  # 131,072 of the 1,048,576 clusters of 64 KiB
print('\n'.join(f'write -P 0x5a {s * 65536} 64k' for s in slots))" | qemu-io scattered64k.tmp >/dev/null
  mv scattered64k.tmp scattered64k.qcow2
fi
# 20 internal snapshots of a 4 GiB image (64 KiB clusters), 256 MiB rewritten between snapshots.
if [ ! -f snap20.qcow2 ]; then
  qemu-img create -q -f qcow2 snap20.tmp 4G
  for i in $(seq 1 20); do
    qemu-io -c "write -P $i $(((i % 16) * 256))M 256M" snap20.tmp >/dev/null
    qemu-img snapshot -c "s$i" snap20.tmp
  done
  mv snap20.tmp snap20.qcow2
fi
# Compressed: 2 GiB of patterned data through `convert -c`.
if [ ! -f compressed.qcow2 ]; then
  qemu-img create -q -f qcow2 plain.tmp 2G
  for i in 0 1 2 3; do qemu-io -c "write -P 0x33 $((i * 512))M 512M" plain.tmp >/dev/null; done
  qemu-img convert -c -O qcow2 plain.tmp compressed.tmp
  rm plain.tmp
  mv compressed.tmp compressed.qcow2
fi
[ -z "${IMAGES_ONLY:-}" ] || exit 0

dotnet publish "$root/src/Qcow2.Tool" -c Release -r linux-x64 -o "$work/aot" >/dev/null
ours="$work/aot/qcow2"

peak_rss_kb() { # median of 5 runs
  for _ in 1 2 3 4 5; do /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -n 1; done | sort -n | sed -n 3p
}

baseline=${BASELINE:-}
echo "| image | metadata clusters (reads) | metadata read once | qemu-img check | qcow2 check | qcow2 / qemu-img | qcow2 / metadata read | qemu-img peak RSS | qcow2 peak RSS |${baseline:+ baseline check | baseline peak RSS |}"
echo "|---|---|---|---|---|---|---|---|---|${baseline:+---|---|}"
for image in meta4k-4G.qcow2 meta4k-16G.qcow2 meta4k-64G.qcow2 scattered64k.qcow2 snap20.qcow2 compressed.qcow2; do
  hyperfine -N --warmup 3 --runs "$runs" --export-json hyperfine.json "qemu-img check $image" "$ours check $image" ${baseline:+"$baseline check $image"} >/dev/null
  read -r qemu_ms ours_ms base_ms _ < <(python3 -c "import json; r = json.load(open('hyperfine.json'))['results']; print(*(x['median'] * 1000 for x in r), 0)")
  read -r read_ms clusters reads < <(RUNS=$runs python3 "$root/bench/read-metadata.py" "$image")
  qemu_kb=$(peak_rss_kb qemu-img check "$image")
  ours_kb=$(peak_rss_kb "$ours" check "$image")
  base=""
  if [ -n "$baseline" ]; then
    base_kb=$(peak_rss_kb "$baseline" check "$image")
    base=$(python3 -c "print(f' {$base_ms:.1f} ms | {$base_kb / 1024:.1f} MiB |')")
  fi
  python3 -c "print(f'| $image | $clusters ($reads) | {$read_ms:.1f} ms | {$qemu_ms:.1f} ms | {$ours_ms:.1f} ms | {$ours_ms / $qemu_ms:.2f} | {$ours_ms / $read_ms:.1f} | {$qemu_kb / 1024:.1f} MiB | {$ours_kb / 1024:.1f} MiB |', end='')"
  echo "$base"
done
