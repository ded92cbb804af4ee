#!/usr/bin/env bash
# Generated source size and build time of a consumer with many layouts.
#
# Writes a consumer project with STRUCTS (default 300) partial structs of 18 [Field] members each (a magic, a reserved
# field and a rule on every third member, as real headers have), then builds it ROUNDS times (default 3) with the
# generator and as often without it, alternating, and reports:
#   * the generated source per struct (bytes of the *.g.cs files the compiler writes out / STRUCTS);
#   * the median build time with and without the generator, and their ratio.
# Without the generator the same sources compile (the attributes come from the runtime; nothing calls Read).
# Only the consumer is rebuilt in the timed builds (--no-dependencies --no-incremental), after one warm-up build
# that also builds the runtime and the generator. The compiler server is used, as in a normal edit-build loop.
#
#   bash bench/GeneratedCodeSize/measure.sh            # ~5-10 min on a busy 2-core machine
#   STRUCTS=100 ROUNDS=1 bash bench/GeneratedCodeSize/measure.sh
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
structs=${STRUCTS:-300}
rounds=${ROUNDS:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

write_project() { # $1 = directory, $2 = "yes" to reference the generator
    mkdir -p "$1"
    {
        echo '<Project Sdk="Microsoft.NET.Sdk">'
        echo '  <PropertyGroup>'
        echo '    <TargetFramework>net10.0</TargetFramework>'
        echo '    <Nullable>enable</Nullable>'
        echo '    <EmitCompilerGeneratedFiles>true</EmitCompilerGeneratedFiles>'
        echo '    <CompilerGeneratedFilesOutputPath>generated</CompilerGeneratedFilesOutputPath>'
        echo '  </PropertyGroup>'
        echo '  <ItemGroup>'
        echo "    <ProjectReference Include=\"$repo/src/BinaryFormat.Runtime/BinaryFormat.Runtime.csproj\" />"
        if [ "$2" = yes ]; then
            echo "    <ProjectReference Include=\"$repo/src/BinaryFormat.Generator/BinaryFormat.Generator.csproj\" OutputItemType=\"Analyzer\" ReferenceOutputAssembly=\"false\" />"
        fi
        echo '    <Compile Remove="generated/**" />'
        echo '  </ItemGroup>'
        echo '</Project>'
    } > "$1/Consumer.csproj"
    python3 - "$1/Layouts.cs" "$structs" <<'PY'
import sys
path, count = sys.argv[1], int(sys.argv[2])
types = ["uint", "ushort", "byte", "ulong", "int", "short"]
lines = ["using BinaryFormat;", "", "namespace Consumer;", ""]
for i in range(count):
    lines.append("[BinaryFormat(ByteOrder.BigEndian)]")
    lines.append(f"public partial struct Layout{i}")
    lines.append("{")
    for f in range(18):
        t = types[f % len(types)]
        rule = ""
        if f == 0:
            t, rule = "uint", ", Magic(0x51464900)"
        elif f == 1:
            rule = ", Reserved"
        elif f % 3 == 0:
            rule = ", Range(1, 100)" if f % 2 == 0 else ", OneOf(1, 2, 4)"
        lines.append(f"    [Field{rule}] public {t} Field{f};")
    lines.append("}")
    lines.append("")
open(path, "w").write("\n".join(lines))
PY
}

with="$work/with"; without="$work/without"
write_project "$with" yes
write_project "$without" no
for dir in "$with" "$without"; do
    dotnet build "$dir/Consumer.csproj" -c Release -v q -nologo > "$dir/warmup.log" 2>&1 || { cat "$dir/warmup.log"; exit 1; }
done

time_build() { # $1 = directory; prints seconds
    local start end
    start=$(date +%s.%N)
    dotnet build "$1/Consumer.csproj" -c Release -v q -nologo --no-restore --no-dependencies --no-incremental > "$1/build.log" 2>&1 \
        || { cat "$1/build.log" >&2; exit 1; }
    end=$(date +%s.%N)
    echo "$end - $start" | bc
}

times_with=(); times_without=()
for ((r = 1; r <= rounds; r++)); do
    times_with+=("$(time_build "$with")")
    times_without+=("$(time_build "$without")")
    echo "round $r: with ${times_with[-1]} s, without ${times_without[-1]} s" >&2
done

bytes=$(find "$with/generated" -name '*.g.cs' -printf '%s\n' | awk '{ s += $1 } END { print s }')
files=$(find "$with/generated" -name '*.g.cs' | wc -l)
python3 - "$bytes" "$files" "$structs" "${times_with[*]}" "${times_without[*]}" <<'PY'
import statistics, sys
size, files, structs = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
with_gen = [float(x) for x in sys.argv[4].split()]
without = [float(x) for x in sys.argv[5].split()]
mw, mo = statistics.median(with_gen), statistics.median(without)
print(f"structs: {structs} x 18 fields; generated files: {files}; generated source: {size} bytes = {size / structs / 1024:.1f} KB per struct")
print(f"build (median of {len(with_gen)}): with generator {mw:.1f} s, without {mo:.1f} s, ratio {mw / mo:.2f}")
PY
