#!/usr/bin/env bash
# Coverage-guided fuzzing of the qcow2 library and tool with AFL++ and SharpFuzz.
#   fuzz/run-afl.sh [SECONDS]      (default 600; findings in fuzz/work/out/default/{crashes,hangs})
# Installs what is missing: afl++ (apt-get) and the sharpfuzz instrumenter (dotnet tool SharpFuzz.CommandLine, into fuzz/work/tools).
# Replay a finding in-process with the uninstrumented build (the instrumented one needs AFL++ shared memory):
#   dotnet run --project fuzz/Qcow2.Fuzz -c Release -- fuzz/work/out/default/crashes/id:…
# A fixed crash becomes a regression test: copy it to tests/Qcow2.Tests/Hostile/Regressions/NAME.bin.
set -euo pipefail
seconds="${1:-600}"
here="$(cd "$(dirname "$0")" && pwd)"
work="$here/work"
mkdir -p "$work"

if ! command -v afl-fuzz >/dev/null; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq && $SUDO apt-get install -y afl++
fi
if [ ! -x "$work/tools/sharpfuzz" ]; then
    dotnet tool install --tool-path "$work/tools" SharpFuzz.CommandLine --version 2.3.0
fi

# Build, then instrument the assemblies under test (not the harness or SharpFuzz itself).
dotnet build "$here/Qcow2.Fuzz" -c Release -o "$work/bin" -nologo -v q
for dll in Qcow2.Format.dll BinaryFormat.Runtime.dll qcow2.dll; do
    "$work/tools/sharpfuzz" "$work/bin/$dll"
done

# Seeds: tiny images made by qemu-img (512-byte clusters where the feature allows it).
seeds="$work/seeds"
if [ ! -d "$seeds" ] || [ -z "$(ls -A "$seeds")" ]; then
    mkdir -p "$seeds"
    t="$work/tmp.qcow2"
    qemu-img create -q -f qcow2 -o compat=0.10,cluster_size=512 "$seeds/v2.qcow2" 64k
    qemu-img create -q -f qcow2 -o cluster_size=512 "$seeds/v3.qcow2" 64k
    qemu-img create -q -f qcow2 -o cluster_size=512 "$seeds/bitmaps.qcow2" 64k
    qemu-img bitmap --add "$seeds/bitmaps.qcow2" b0
    qemu-io -f qcow2 -c "write 0 1k" "$seeds/bitmaps.qcow2" >/dev/null
    qemu-img create -q -f qcow2 -o cluster_size=512 "$seeds/snapshot.qcow2" 64k
    qemu-io -f qcow2 -c "write 0 1k" "$seeds/snapshot.qcow2" >/dev/null
    qemu-img snapshot -c s0 "$seeds/snapshot.qcow2"
    qemu-img create -q -f qcow2 -o cluster_size=512 "$seeds/compressed.qcow2" 64k
    qemu-io -f qcow2 -c "write -c 0 512" "$seeds/compressed.qcow2" >/dev/null
    qemu-img create -q -f qcow2 -o extended_l2=on,cluster_size=16k "$seeds/extl2.qcow2" 64k
    qemu-io -f qcow2 -c "write 0 1k" "$seeds/extl2.qcow2" >/dev/null
    qemu-img create -q -f qcow2 -o cluster_size=512,lazy_refcounts=on,refcount_bits=1 "$seeds/lazy-rc1.qcow2" 64k
    qemu-img create -q -f qcow2 -o cluster_size=512 -b v3.qcow2 -F qcow2 "$seeds/backing.qcow2"
    rm -f "$t"
fi

export AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1
resume=()
[ -d "$work/out/default/queue" ] && resume=(-i -) || resume=(-i "$seeds")
# -t: the .NET target is slow on the first inputs (JIT).
afl-fuzz "${resume[@]}" -o "$work/out" -t 2000 -m none -V "${seconds}" -- dotnet "$work/bin/Qcow2.Fuzz.dll"
grep -E "execs_done|saved_crashes|saved_hangs|corpus_count|run_time" "$work/out/default/fuzzer_stats" || true
