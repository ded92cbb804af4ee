// The watchdogs block on purpose: a hung case must fail the test after its timeout, not hang the run.
#pragma warning disable xUnit1031
using System.Buffers.Binary;
using Qcow2.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Qcow2.Tests.Hostile;

/// <summary>One deterministic mutation of a seed image: a name to print and the damaged bytes.</summary>
public sealed record MutationCase(string Id, string Description, byte[] Bytes);

/// <summary>
/// Seeded, deterministic mutation fuzzing (GitHub issue 7): boundary values written into every header and extension field and
/// into table entries, bit flips, truncations, of qemu-img-made seeds, each run through every <see cref="HostileOperations"/>
/// under a watchdog and an allocation bound. A failure prints the case id; replay just that case with
/// <c>HOSTILE_SEED=&lt;seed&gt; HOSTILE_CASE=&lt;id&gt; dotnet test --filter FullyQualifiedName~Qcow2.Tests.Hostile</c>.
/// </summary>
public sealed class MutationFuzzTests(ITestOutputHelper output)
{
    /// <summary>The seed of the sampled cases; CI uses the default, HOSTILE_SEED=n explores other samples.</summary>
    private static readonly int BaseSeed = int.TryParse(Environment.GetEnvironmentVariable("HOSTILE_SEED"), out var seed) ? seed : 7_2024;

    /// <summary>Table entries (L1, L2, refcount, bitmap and snapshot tables) sampled per seed, on top of all header/extension cases.</summary>
    private const int TableCasesPerSeed = 800;

    /// <summary>
    /// Far longer than any case takes (milliseconds on 64 KiB seeds) on a loaded 2-core CI machine, far shorter than the test
    /// run: a loop over a hostile count or cycle ends here as a failure rather than a stuck run.
    /// </summary>
    private static readonly TimeSpan CaseTimeout = TimeSpan.FromSeconds(20);

    /// <summary>
    /// The most one operation may allocate. Everything read on the file's word is bounded by the spec §10 limits: an L1 table
    /// of 32 MiB, a refcount table of 8 MiB, a bitmap directory of 64 MiB, a snapshot table of 64 MiB (168 MiB in all). A check
    /// with repair reads them in two passes and holds a decoded copy of each table next to its bytes, so a legitimate
    /// operation stays under 4 × 168 MiB; the seeds are at most 256 KiB, so nothing else is sized from data. An unbounded
    /// allocation (a length or a count trusted from the file) blows through this bound by orders of magnitude.
    /// </summary>
    public const long AllocationBound = 4 * (Limits.MaxL1Bytes + Limits.MaxRefcountTableBytes + Limits.MaxBitmapDirectorySize + Limits.MaxSnapshotTableBytes);

    public static IEnumerable<MutationCase> Cases(SeedImage seed)
    {
        var bytes = seed.Bytes;
        var cs = (ulong)seed.ClusterSize;
        var index = 0;
        MutationCase Make(string description, Action<byte[]> mutate)
        {
            var copy = (byte[])bytes.Clone();
            mutate(copy);
            return new MutationCase($"{seed.Name}#{index++}", description, copy);
        }
        static void Write(byte[] target, MutableField field, ulong value)
        {
            var span = target.AsSpan(field.Offset, field.Size);
            switch (field.Size)
            {
                case 1: span[0] = (byte)value; break;
                case 2: BinaryPrimitives.WriteUInt16BigEndian(span, (ushort)value); break;
                case 4: BinaryPrimitives.WriteUInt32BigEndian(span, (uint)value); break;
                default: BinaryPrimitives.WriteUInt64BigEndian(span, value); break;
            }
        }
        IEnumerable<ulong> Boundaries(MutableField field)
        {
            var max = field.Size == 8 ? ulong.MaxValue : (1UL << (field.Size * 8)) - 1;
            var top = 1UL << (field.Size * 8 - 1);
            var original = field.Size switch
            {
                1 => bytes[field.Offset],
                2 => BinaryPrimitives.ReadUInt16BigEndian(bytes.AsSpan(field.Offset)),
                4 => BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(field.Offset)),
                _ => BinaryPrimitives.ReadUInt64BigEndian(bytes.AsSpan(field.Offset)),
            };
            var file = (ulong)bytes.Length;
            ulong[] values = [0, 1, 2, 3, max, max - 1, top, top - 1, top + 1, 7, 8, 9, 21, 22, 64, 511, 512, 513, cs - 1, cs, cs + 1, 2 * cs,
                file - cs, file, file + cs, 1UL << 32, (1UL << 56) - cs, 1UL << 56, 0x00FF_FFFF_FFFF_FE00, 0x8000_0000_0000_0200,
                original + 1, original - 1, original + cs, original ^ top];
            return values.Select(v => v & max).Distinct();
        }

        var headerAndExtensions = seed.Fields.Where(f => !f.Name.Contains('[') && !f.Name.StartsWith("bitmap@", StringComparison.Ordinal)).ToList();
        var structures = seed.Fields.Except(headerAndExtensions).ToList();

        // Every boundary value into every header field, extension framing field and bitmap directory entry field; a seeded
        // sample of them into the extension data words (mostly names), to stay within about a minute of CI time.
        var random = new Random(BaseSeed + seed.Name.Length * 7919 + seed.Bytes.Length);
        foreach (var field in headerAndExtensions.Concat(structures.Where(f => f.Name.StartsWith("bitmap@", StringComparison.Ordinal) && !f.Name.Contains(".table["))))
        {
            var dataWord = field.Name.Contains(".data+", StringComparison.Ordinal);
            var values = Boundaries(field).ToArray();
            foreach (var value in dataWord ? values.Where(_ => random.Next(values.Length) < 3) : values)
                yield return Make($"{field.Name} @{field.Offset} = 0x{value:x}", b => Write(b, field, value));
        }

        // A seeded sample of table entries (and snapshot entry fields) with boundary values, bit flips and aliasing offsets.
        for (var i = 0; i < TableCasesPerSeed && structures.Count > 0; i++)
        {
            var field = structures[random.Next(structures.Count)];
            var values = Boundaries(field).ToArray();
            switch (random.Next(3))
            {
                case 0:
                    var value = values[random.Next(values.Length)];
                    yield return Make($"{field.Name} @{field.Offset} = 0x{value:x}", b => Write(b, field, value));
                    break;
                case 1:
                    var bit = random.Next(field.Size * 8);
                    yield return Make($"{field.Name} @{field.Offset} bit {bit} flipped", b => b[field.Offset + field.Size - 1 - bit / 8] ^= (byte)(1 << (bit % 8)));
                    break;
                default:
                    // Point the entry at another structure of the image (cycles, overlaps, shared tables).
                    var other = seed.Fields[random.Next(seed.Fields.Count)];
                    var target = (ulong)other.Offset & ~(cs - 1);
                    yield return Make($"{field.Name} @{field.Offset} = 0x{target:x} ({other.Name})", b => Write(b, field, field.Size == 8 ? target | (1UL << 63) : target >> 9));
                    break;
            }
        }

        // Several fields at once.
        for (var i = 0; i < 100; i++)
        {
            var picks = Enumerable.Range(0, 3).Select(_ => seed.Fields[random.Next(seed.Fields.Count)]).ToArray();
            var values = picks.Select(f => Boundaries(f).ElementAt(random.Next(Boundaries(f).Count()))).ToArray();
            yield return Make(string.Join(", ", picks.Select((f, k) => $"{f.Name} = 0x{values[k]:x}")), b =>
            {
                for (var k = 0; k < picks.Length; k++)
                    Write(b, picks[k], values[k]);
            });
        }

        // Truncations: inside the header, at every structure start, at cluster boundaries.
        var cuts = new SortedSet<int> { 0, 1, 4, 8, 20, 71, 72, 100, 103, 104, 105, 111, 112, 200, bytes.Length - 1 };
        foreach (var field in seed.Fields)
            cuts.Add(field.Offset);
        for (var c = (int)cs; c < bytes.Length; c += (int)cs)
            cuts.Add(c);
        foreach (var cut in cuts.Where(c => c < bytes.Length).Where((_, k) => k % 4 == 0 || bytes.Length < 8192))
            yield return new MutationCase($"{seed.Name}#{index++}", $"truncated to {cut} bytes", bytes[..cut]);
    }

    [QemuFact]
    public void Every_operation_on_every_mutation_ends_in_a_result_or_a_format_exception_in_bounded_time_and_memory()
    {
        var replay = Environment.GetEnvironmentVariable("HOSTILE_CASE");
        using var dir = new TempDir();
        var path = dir.File("case.bin");
        var failures = new List<string>();
        var perOperation = HostileOperations.All.ToDictionary(o => o.Name, _ => (Refused: 0, Accepted: 0));
        long cases = 0, maxAllocated = 0;
        var maxAllocatedBy = "";
        var started = DateTime.UtcNow;

        foreach (var seed in HostileSeeds.All)
        {
            foreach (var c in Cases(seed))
            {
                if (replay is not null && c.Id != replay)
                    continue;
                cases++;
                string? failure = null;
                var outcomes = new List<(string Operation, bool Refused, long Allocated)>();
                var work = Task.Run(() =>
                {
                    foreach (var operation in HostileOperations.All)
                    {
                        File.WriteAllBytes(path, c.Bytes);
                        var before = GC.GetAllocatedBytesForCurrentThread();
                        try
                        {
                            var refused = HostileOperations.RunOne(operation, path);
                            outcomes.Add((operation.Name, refused, GC.GetAllocatedBytesForCurrentThread() - before));
                        }
                        catch (Exception e)
                        {
                            failure = $"{operation.Name}: {e.GetType().Name}: {e.Message}\n{e.StackTrace}";
                            return;
                        }
                    }
                });
                if (!work.Wait(CaseTimeout))
                    failure = $"no result within {CaseTimeout.TotalSeconds} s (hang); finished: {string.Join(", ", outcomes.Select(o => o.Operation))}";
                foreach (var (operation, refused, allocated) in outcomes)
                {
                    var counts = perOperation[operation];
                    perOperation[operation] = refused ? (counts.Refused + 1, counts.Accepted) : (counts.Refused, counts.Accepted + 1);
                    if (allocated > maxAllocated)
                        (maxAllocated, maxAllocatedBy) = (allocated, $"{c.Id} {operation}");
                    if (allocated > AllocationBound)
                        failure ??= $"{operation}: allocated {allocated} bytes, more than the bound {AllocationBound}";
                }
                if (failure is not null)
                {
                    failures.Add($"HOSTILE_SEED={BaseSeed} HOSTILE_CASE={c.Id} ({c.Description}): {failure}");
                    if (failures.Count >= 20 || failure.Contains("hang", StringComparison.Ordinal))
                        break;
                }
            }
        }

        output.WriteLine($"{cases} cases in {(DateTime.UtcNow - started).TotalSeconds:F1} s; most allocated by one operation: {maxAllocated} bytes ({maxAllocatedBy})");
        foreach (var (operation, (refused, accepted)) in perOperation)
            output.WriteLine($"  {operation}: {accepted} accepted, {refused} refused");
        Assert.True(failures.Count == 0, $"{failures.Count} failing cases (replay one with the HOSTILE_CASE environment variable):\n" + string.Join("\n\n", failures));
        if (replay is null)
        {
            Assert.True(cases > 5000, $"only {cases} cases");
            // The damage must hit both ways, or the test exercises nothing.
            Assert.All(perOperation, p => Assert.True(p.Value.Refused > 100 && p.Value.Accepted > 100, $"{p.Key}: {p.Value}"));
        }
    }
}
