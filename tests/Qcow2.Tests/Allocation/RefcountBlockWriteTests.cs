using System.Buffers.Binary;
using Qcow2.Tests.Infrastructure;

namespace Qcow2.Tests.Allocation;

/// <summary>
/// Refcount updates are batched: an operation that allocates many clusters, or frees many, writes each refcount block it
/// changes once, not once per cluster or per table. Counted with <see cref="CountingStorage"/>: every write that covers a
/// refcount block, per block offset (the blocks of the table before and after the operation).
/// </summary>
public sealed class RefcountBlockWriteTests
{
    private const long MiB = 1 << 20;

    [QemuFact]
    public void A_grow_with_metadata_preallocation_writes_each_refcount_block_once_per_phase()
    {
        // 4 KiB clusters and 16-bit refcounts: a block describes 8 MiB, an L2 table 2 MiB; 1 MiB → 64 MiB needs 32 tables
        // and 16,128 data clusters, described by the existing block and seven new ones.
        var (maxWrites, blocks, writes) = Count("1M", "cluster_size=4096", image =>
            image.Resize(64 * MiB, new Qcow2ResizeOptions { Preallocation = Qcow2Preallocation.Metadata }));
        Assert.True(blocks.Count >= 8, $"only {blocks.Count} refcount blocks were written");
        // The first block is written three times: to allocate the grown L1 table, to free the old one once it is switched, and
        // to allocate the run of tables and data. Every other block once, whatever the number of tables.
        Assert.True(maxWrites <= 3 && blocks.Count(n => n > 1) <= 1, $"writes per refcount block: {writes}");
    }

    [QemuFact]
    public void A_shrink_writes_each_refcount_block_once()
    {
        // Metadata preallocated: the shrink frees 28,672 data clusters and 56 L2 tables, spread over eight refcount blocks.
        var (maxWrites, blocks, writes) = Count("64M", "cluster_size=4096,preallocation=metadata", image =>
            image.Resize(8 * MiB, new Qcow2ResizeOptions { AllowShrink = true }));
        Assert.True(blocks.Count >= 7, $"only {blocks.Count} refcount blocks were written");
        Assert.True(maxWrites == 1, $"writes per refcount block: {writes}");
    }

    [QemuFact]
    public void Clearing_a_bitmap_writes_each_refcount_block_once_to_allocate_and_once_to_free()
    {
        // 512-byte granularity over 1 GiB: 256 KiB of bitmap, 64 data clusters, each dirtied by one write every 16 MiB.
        var (maxWrites, blocks, writes) = Count("1G", "cluster_size=4096", image => image.ClearBitmap("bm0"), path =>
        {
            Qemu.Img("bitmap", "--add", "-g", "512", path, "bm0").EnsureSuccess("bitmap --add");
            Qemu.Io([.. Enumerable.Range(0, 64).SelectMany(i => new[] { "-c", $"write -P 7 {i * 16 * MiB} 512" }), "-f", "qcow2", path])
                .EnsureSuccess("qemu-io write");
        });
        Assert.True(blocks.Count >= 1, "no refcount block was written");
        // The new table and directory are allocated with one write, and the old table and 64 data clusters freed with one.
        Assert.True(maxWrites is 1 or 2, $"writes per refcount block: {writes}");
    }

    [QemuFact]
    public void Deleting_a_snapshot_writes_each_refcount_block_at_most_once_to_allocate_and_once_to_free()
    {
        // Every cluster of 8 MiB rewritten after the snapshot: deleting it frees 2,048 data clusters.
        var (maxWrites, blocks, writes) = Count("16M", "cluster_size=4096", image => image.DeleteSnapshot(image.FindSnapshotByNameOrId("s1")!), path =>
        {
            Qemu.Io("-f", "qcow2", "-c", "write -P 1 0 8M", path).EnsureSuccess("qemu-io write");
            Qemu.Img("snapshot", "-c", "s1", path).EnsureSuccess("snapshot -c");
            Qemu.Io("-f", "qcow2", "-c", "write -P 2 0 8M", path).EnsureSuccess("qemu-io write");
        });
        Assert.True(blocks.Count >= 1, "no refcount block was written");
        // The snapshot table is rewritten to a new cluster (one allocation), then everything is freed at once.
        Assert.True(maxWrites is 1 or 2, $"writes per refcount block: {writes}");
    }

    /// <summary>
    /// Runs <paramref name="operation"/> on an image created with qemu-img (then <paramref name="prepare"/>d), checks the
    /// result with qemu-img check, and returns the most writes any one refcount block took, the writes of each block written,
    /// and those counts by block offset for messages.
    /// </summary>
    private static (int MaxWrites, List<int> Blocks, string Writes) Count(string size, string options, Action<Qcow2Image> operation, Action<string>? prepare = null)
    {
        using var dir = new TempDir();
        var path = dir.File("a.qcow2");
        Qemu.Img("create", "-q", "-f", "qcow2", "-o", options, path, size).EnsureSuccess("qemu-img create");
        prepare?.Invoke(path);
        var before = File.ReadAllBytes(path);

        var stream = new MemoryStream();
        stream.Write(before);
        var storage = new CountingStorage(new StreamStorage(stream, writable: true, leaveOpen: true));
        using (var image = Qcow2Image.Open(storage, writable: true, forCheck: false, fileName: null))
            operation(image);
        var after = stream.ToArray();
        File.WriteAllBytes(path, after);
        var (exit, _, stderr) = Qemu.CheckJson(path);
        Assert.True(exit == 0, $"qemu-img check exited {exit}: {stderr}");

        var clusterSize = 1 << (int)BinaryPrimitives.ReadUInt32BigEndian(before.AsSpan(20));
        var counts = RefcountBlocks(before).Union(RefcountBlocks(after)).ToDictionary(
            block => block,
            block => storage.Writes.Count(w => w.Offset < block + clusterSize && block < w.Offset + w.Length));
        var written = counts.Values.Where(n => n > 0).ToList();
        var writes = string.Join(", ", counts.Where(c => c.Value > 0).Select(c => $"0x{c.Key:x}: {c.Value}"));
        return (written.Count == 0 ? 0 : written.Max(), written, writes);
    }

    /// <summary>The byte offsets of the refcount blocks the image's refcount table lists.</summary>
    private static IEnumerable<long> RefcountBlocks(byte[] image)
    {
        var clusterSize = 1 << (int)BinaryPrimitives.ReadUInt32BigEndian(image.AsSpan(20));
        var tableOffset = (int)BinaryPrimitives.ReadUInt64BigEndian(image.AsSpan(48));
        var tableClusters = (int)BinaryPrimitives.ReadUInt32BigEndian(image.AsSpan(56));
        for (var i = 0; i < tableClusters * clusterSize / sizeof(ulong); i++)
        {
            var at = tableOffset + i * sizeof(ulong);
            var entry = at + sizeof(ulong) <= image.Length ? (long)BinaryPrimitives.ReadUInt64BigEndian(image.AsSpan(at)) : 0;
            if (entry != 0)
                yield return entry;
        }
    }
}
