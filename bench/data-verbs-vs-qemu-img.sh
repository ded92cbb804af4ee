#!/usr/bin/env bash
# The data verbs side by side with qemu-img 7.2, in one hyperfine run per workload (whole processes, page cache warm):
#   convert qcow2->raw and raw->qcow2 of SIZE of data (64 KiB clusters; the data is the machine's shared libraries, cut to SIZE);
#   convert -c (zlib) of CSIZE of the same data, on every core of the machine;
#   map --output=json of a fragmented image (every other 64 KiB cluster of MAP_SIZE written, in reverse order);
#   compare of two identical images of SIZE of data;
#   backup of 500 dirty 64 KiB ranges (a bitmap increment over a full backup) vs qemu-img convert of an image holding the
#   same 500 ranges, and vs the same convert with -t writeback: a backup flushes its target before it names it complete
#   (and before --clear may clear the bitmap), qemu-img convert's default (-t unsafe) does not.
# Prints a markdown table of medians (RUNS runs after one warm-up, default 5) and ratios (ours / qemu-img).
# Usage: bench/data-verbs-vs-qemu-img.sh [WORK_DIR]   (SIZE=4G MAP_SIZE=16G for the issue's sizes; it needs about
#        4 x SIZE + MAP_SIZE / 2 of disk; MAP_SIZE defaults to SIZE;
#        QCOW2_BIN=path uses an already published tool instead of publishing it with NativeAOT)
set -euo pipefail
work=${1:-/tmp/qcow2-verbs-bench}
runs=${RUNS:-5}
size=${SIZE:-1G}
csize=${CSIZE:-256M}
map_size=${MAP_SIZE:-$size}
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$work"
ours=${QCOW2_BIN:-$work/bin/qcow2}
[ -n "${QCOW2_BIN:-}" ] || dotnet publish "$root/src/Qcow2.Tool" -c Release -r linux-x64 -o "$work/bin" >/dev/null
cd "$work"
bytes=$(numfmt --from=iec "$size")
map_bytes=$(numfmt --from=iec "$map_size")
for tool in hyperfine jq bc qemu-img qemu-io; do
  command -v "$tool" >/dev/null || { echo "needs $tool (apt-get install hyperfine jq bc qemu-utils)" >&2; exit 1; }
done
if [ ! -f data.raw ] || [ "$(stat -c %s data.raw)" != "$bytes" ]; then
  rm -f data.raw data.qcow2 disk.qcow2 full.qcow2 ranges.qcow2
  avail=$(df -B1 --output=avail . | tail -1)
  need=$((4 * bytes + map_bytes / 2))
  [ "$avail" -ge "$need" ] || { echo "$work has $avail bytes free; SIZE=$size MAP_SIZE=$map_size needs about $need" >&2; exit 1; }
  while [ ! -f data.raw ] || [ "$(stat -c %s data.raw)" -lt "$bytes" ]; do
    find /usr/lib -type f -size +64k -print0 | sort -z | xargs -0 cat >> data.raw 2>/dev/null || true
  done
  truncate -s "$bytes" data.raw
fi
[ -f data.qcow2 ] || qemu-img convert -f raw -O qcow2 data.raw data.qcow2
head -c "$(numfmt --from=iec "$csize")" data.raw > small.raw
if [ ! -f frag.qcow2 ] || [ "$(qemu-img info --output=json frag.qcow2 | jq '."virtual-size"')" != "$map_bytes" ]; then
  qemu-img create -q -f qcow2 frag.qcow2 "$map_size"
  clusters=$((map_bytes / 65536))
  for ((i = clusters - 2; i >= 0; i -= 2)); do echo "write -P $((i % 250 + 1)) $((i * 65536)) 64k"; done | qemu-io frag.qcow2 >/dev/null
fi
if [ ! -f full.qcow2 ]; then
  cp data.qcow2 disk.qcow2
  qemu-img bitmap --add disk.qcow2 changes
  "$ours" backup -q --bitmap changes --clear disk.qcow2 full.qcow2
  qemu-img create -q -f qcow2 ranges.qcow2 "$size"
  cmds=()
  for ((i = 0; i < 500; i++)); do cmds+=(-c "write -P 7 $(( (i * 7919 % (bytes / 65536)) * 65536 )) 64k"); done
  qemu-io "${cmds[@]}" disk.qcow2 >/dev/null
  qemu-io "${cmds[@]}" ranges.qcow2 >/dev/null
fi
cp data.qcow2 data2.qcow2
cat data.raw data.qcow2 data2.qcow2 frag.qcow2 >/dev/null

table=()
compare_pair() { # name, ours command, qemu-img command, [prepare command]
  local prepare=${4:-true}
  hyperfine -N --style none --runs "$runs" --warmup 1 --prepare "$prepare" --export-json pair.json "$2" "$3" >/dev/null 2>&1 ||
    hyperfine --style none --runs "$runs" --warmup 1 --prepare "$prepare" --export-json pair.json "$2" "$3" >/dev/null
  local a b
  a=$(jq '.results[0].median' pair.json)
  b=$(jq '.results[1].median' pair.json)
  table+=("| $1 | $(printf %.3f "$a") | $(printf %.3f "$b") | $(echo "scale=2; $a / $b" | bc) |")
}

compare_pair "convert qcow2->raw, $size of data" "$ours convert -O raw data.qcow2 out.raw" "qemu-img convert -O raw data.qcow2 out.raw" "rm -f out.raw"
compare_pair "convert raw->qcow2, $size of data" "$ours convert -f raw -O qcow2 data.raw out.qcow2" "qemu-img convert -f raw -O qcow2 data.raw out.qcow2" "rm -f out.qcow2"
compare_pair "convert -c (zlib), $csize, $(nproc) cores" "$ours convert -c -f raw -O qcow2 small.raw out.qcow2" "qemu-img convert -c -f raw -O qcow2 small.raw out.qcow2" "rm -f out.qcow2"
compare_pair "map --output=json, $map_size, every other cluster in reverse order" "$ours map --output=json frag.qcow2" "qemu-img map --output=json frag.qcow2"
compare_pair "compare, two identical images of $size of data" "$ours compare data.qcow2 data2.qcow2" "qemu-img compare data.qcow2 data2.qcow2"
compare_pair "backup of 500 dirty 64 KiB ranges vs qemu-img convert of them" "$ours backup -q --bitmap changes --backing full.qcow2 disk.qcow2 inc.qcow2" "qemu-img convert -O qcow2 ranges.qcow2 out.qcow2" "rm -f inc.qcow2 out.qcow2"
compare_pair "backup of 500 dirty 64 KiB ranges vs qemu-img convert -t writeback of them (both flushed)" "$ours backup -q --bitmap changes --backing full.qcow2 disk.qcow2 inc.qcow2" "qemu-img convert -t writeback -O qcow2 ranges.qcow2 out.qcow2" "rm -f inc.qcow2 out.qcow2"
rm -f out.raw out.qcow2 inc.qcow2 data2.qcow2

echo "| workload | qcow2 (median s) | qemu-img (median s) | ratio |"
echo "|---|---|---|---|"
printf '%s\n' "${table[@]}"
