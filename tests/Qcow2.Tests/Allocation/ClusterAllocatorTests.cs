using Qcow2.Tests.Infrastructure;

namespace Qcow2.Tests.Allocation;

public sealed class ClusterAllocatorTests
{
    /// <summary>
    /// Small clusters and wide refcounts make one refcount table cluster cover little, so allocating a few thousand clusters
    /// must create refcount blocks and grow the table. Unlinked allocations are leaks to qemu-img, never corruptions; freeing
    /// them all leaves an image qemu-img finds clean.
    /// </summary>
    [QemuTheory]
    [InlineData(512, 64, true)]     // one table cluster covers 64 blocks of 64 clusters: 6000 clusters need a larger table
    [InlineData(512, 1, false)]     // 1-bit refcounts: one block covers 4096 clusters, so only new blocks are needed
    [InlineData(4096, 16, false)]
    public void Allocations_grow_the_refcount_structures_consistently(int clusterSize, int refcountBits, bool tableMustGrow)
    {
        using var dir = new TempDir();
        var path = dir.File("a.qcow2");
        Qemu.Img("create", "-q", "-f", "qcow2", "-o", $"cluster_size={clusterSize},refcount_bits={refcountBits}", path, "1M").EnsureSuccess("create");
        var originalTableOffset = Qemu.InfoJson(path); // sanity: qemu can read it
        Assert.Equal(1048576, originalTableOffset.GetProperty("virtual-size").GetInt64());

        var allocated = new List<(long Offset, long Count)>();
        long total = 0;
        using (var image = Qcow2Image.Open(path, new Qcow2OpenOptions { Writable = true }))
        {
            var allocator = new ClusterAllocator(image.Storage, image.Metadata);
            var tableBefore = image.Metadata.Header.RefcountTableOffset;
            for (var i = 0; total < 6000; i++)
            {
                var count = 1 + i % 37;
                var offset = allocator.Allocate(count);
                Assert.Equal(0, offset % clusterSize);
                Assert.All(allocated, a => Assert.True(offset >= a.Offset + a.Count * clusterSize || offset + count * clusterSize <= a.Offset, "runs overlap"));
                allocated.Add((offset, count));
                // A caller writes what it allocated; qemu-img ignores refcounts of clusters past the end of the file.
                image.Storage.Write(offset, new byte[count * clusterSize]);
                total += count;
            }
            Assert.Equal(tableMustGrow, tableBefore != image.Metadata.Header.RefcountTableOffset);
        }

        var (exitCode, json, stderr) = Qemu.CheckJson(path);
        Assert.True(exitCode == 3, stderr);
        Assert.Equal(total, json!.Value.GetProperty("leaks").GetInt64());
        Assert.False(json.Value.TryGetProperty("corruptions", out _), stderr);

        using (var image = Qcow2Image.Open(path, new Qcow2OpenOptions { Writable = true }))
        {
            var allocator = new ClusterAllocator(image.Storage, image.Metadata);
            foreach (var (offset, count) in allocated)
                allocator.Free(allocator.Clusters(offset, count));
            var ours = image.Check();
            Assert.Equal(0, ours.ExitCode());
        }
        var after = Qemu.CheckJson(path);
        Assert.True(after.ExitCode == 0, after.StandardError);
    }
}
