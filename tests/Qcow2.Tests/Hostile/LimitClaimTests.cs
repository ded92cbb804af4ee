// The watchdogs block on purpose: a hung case must fail the test after its timeout, not hang the run.
#pragma warning disable xUnit1031
using System.Buffers.Binary;
using Qcow2.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Qcow2.Tests.Hostile;

/// <summary>
/// A tiny file whose header claims the largest tables QEMU accepts (spec §10: L1 of 32 MiB, refcount table of 8 MiB, 65536
/// snapshots) costs every operation no more than <see cref="MutationFuzzTests.AllocationBound"/>, and just past each limit it is refused.
/// </summary>
public sealed class LimitClaimTests(ITestOutputHelper output)
{
    private static byte[] Claim(byte[] seed, params (int Offset, uint Value)[] fields)
    {
        var bytes = (byte[])seed.Clone();
        foreach (var (offset, value) in fields)
            BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(offset), value);
        // The snapshot table starts at the end of the file (cluster-aligned), so every entry reads as zeros: valid, and empty.
        if (fields.Any(f => f.Offset == 60))
            BinaryPrimitives.WriteUInt64BigEndian(bytes.AsSpan(64), (ulong)bytes.Length);
        return bytes;
    }

    public static TheoryData<string> Claims() => ["l1 4 Mi entries", "reftable 8 MiB", "65536 snapshots", "all at once"];

    private static (int, uint)[] Fields(string claim, int clusterSize) => claim switch
    {
        "l1 4 Mi entries" => [(36, Limits.MaxL1Entries)],
        "reftable 8 MiB" => [(56, (uint)(Limits.MaxRefcountTableBytes / clusterSize))],
        "65536 snapshots" => [(60, Limits.MaxSnapshots)],
        _ => [(36, Limits.MaxL1Entries), (56, (uint)(Limits.MaxRefcountTableBytes / clusterSize)), (60, Limits.MaxSnapshots)],
    };

    [QemuTheory]
    [MemberData(nameof(Claims))]
    public void Claims_at_the_limits_stay_within_the_allocation_bound_and_past_them_are_refused(string claim)
    {
        var seed = HostileSeeds.All.First(s => s.Name == "v2");
        using var dir = new TempDir();
        var path = dir.File("claim.bin");
        var atLimit = Claim(seed.Bytes, Fields(claim, seed.ClusterSize));
        var accepted = 0;
        foreach (var operation in HostileOperations.All)
        {
            File.WriteAllBytes(path, atLimit);
            var work = Task.Run(() =>
            {
                var before = GC.GetAllocatedBytesForCurrentThread();
                HostileOperations.RunOne(operation, path);
                return GC.GetAllocatedBytesForCurrentThread() - before;
            });
            Assert.True(work.Wait(TimeSpan.FromSeconds(60)), $"{claim}: {operation.Name} hangs");
            output.WriteLine($"{claim}: {operation.Name} allocated {work.Result} bytes");
            Assert.True(work.Result <= MutationFuzzTests.AllocationBound, $"{claim}: {operation.Name} allocated {work.Result} bytes");
            accepted += work.Result > 0 && operation.Name == "open" ? 1 : 0;
        }
        File.WriteAllBytes(path, atLimit);
        using (var image = Qcow2Image.Open(path))
            Assert.NotNull(image); // at the limit is accepted: the operations above really read the claimed tables

        // One past each limit: refused on open, before anything is allocated for it.
        Assert.Equal(1, accepted);
        var pastLimit = Claim(seed.Bytes, Fields(claim, seed.ClusterSize).Select(f => (f.Item1, f.Item2 + 1)).ToArray());
        File.WriteAllBytes(path, pastLimit);
        Assert.Throws<Qcow2FormatException>(() => Qcow2Image.Open(path, new Qcow2OpenOptions { ForCheck = true }).Dispose());
    }
}
