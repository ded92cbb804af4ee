using System.Globalization;

namespace Qcow2;

/// <summary>
/// The refcount structures rewritten at another entry width (QEMU's <c>qcow2_change_refcount_order</c>). The new table and
/// blocks go after everything in use while the old ones stay in force; one rewrite of cluster 0 then switches the width and
/// the table together; last, the old structures, counted in the new blocks like any other cluster until then, are freed.
/// A crash leaves the old or the new width, with at worst leaked clusters.
/// </summary>
internal static class RefcountWidthChange
{
    /// <summary>The most bytes of new blocks written at once: few large writes, with a bounded buffer whatever the cluster size.</summary>
    private const int MaxWriteBytes = 4 << 20;

    /// <param name="storage">The image file.</param>
    /// <param name="image">The image; its header follows the switch.</param>
    /// <param name="newOrder">The new refcount order (log2 of the width).</param>
    /// <param name="writeHeader">Rewrites cluster 0 from <paramref name="image"/>'s header with one write.</param>
    /// <exception cref="InvalidOperationException">A refcount does not fit the new width, or the new table would exceed QEMU's limit; nothing is written then.</exception>
    public static void Run(IImageStorage storage, ImageMetadata image, int newOrder, Action writeHeader)
    {
        var clusterBits = image.ClusterBits;
        var clusterSize = image.ClusterSize;
        var old = new ClusterAllocator(storage, image);
        var perBlock = Refcounts.EntriesPerBlock(clusterBits, newOrder);
        var max = Refcounts.MaxRefcount(newOrder);
        var described = new HashSet<long>();
        foreach (var (cluster, refcount) in old.NonZeroRefcounts())
        {
            if (refcount > max)
                throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                    $"Cannot decrease refcount entry width to {1 << newOrder} bits: Cluster at offset 0x{cluster << clusterBits:x} has a refcount of {refcount}"));
            described.Add(cluster / perBlock);
        }

        var plan = RefcountBlockPlanner.Plan(old.EndCluster(), 0, perBlock, clusterSize, _ => false, newTable: true, neededElsewhere: described.Contains);
        if (plan.TableClusters * clusterSize > Limits.MaxRefcountTableBytes)
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"The refcount table would need {plan.TableClusters} clusters at {1 << newOrder}-bit refcounts, more than QEMU's limit of {Limits.MaxRefcountTableBytes} bytes"));

        var table = new ulong[plan.TableClusters * clusterSize / sizeof(ulong)];
        for (var b = 0; b < plan.NewBlocks.Count; b++)
            table[plan.NewBlocks[b]] = (ulong)((plan.BlocksStart + b) << clusterBits);
        EntryTable.Write(storage, plan.TableStart << clusterBits, table);
        WriteBlocks(storage, old, plan, newOrder, clusterSize);
        storage.Flush();

        var oldStructures = old.StructureClusters();
        var previous = image.Header;
        image.Header.RefcountOrder = (uint)newOrder;
        image.Header.RefcountTableOffset = (ulong)(plan.TableStart << clusterBits);
        image.Header.RefcountTableClusters = (uint)plan.TableClusters;
        try
        {
            writeHeader();
        }
        catch
        {
            image.Header = previous;
            throw;
        }
        new ClusterAllocator(storage, image).Free(oldStructures);
        storage.Flush();
    }

    /// <summary>
    /// Writes the planned blocks, side by side from <see cref="RefcountPlacement.BlocksStart"/>, in runs of at most
    /// <see cref="MaxWriteBytes"/>: each holds the old refcounts of the clusters it describes, and 1 for the new structures.
    /// </summary>
    private static void WriteBlocks(IImageStorage storage, ClusterAllocator old, RefcountPlacement plan, int newOrder, int clusterSize)
    {
        var perBlock = Refcounts.EntriesPerBlock(int.Log2(clusterSize), newOrder);
        var blocksPerWrite = Math.Max(1, MaxWriteBytes / clusterSize);
        var buffer = new byte[Math.Min(blocksPerWrite, Math.Max(1, plan.NewBlocks.Count)) * clusterSize];
        for (var first = 0; first < plan.NewBlocks.Count; first += blocksPerWrite)
        {
            var count = Math.Min(blocksPerWrite, plan.NewBlocks.Count - first);
            var run = buffer.AsSpan(0, count * clusterSize);
            run.Clear();
            for (var b = 0; b < count; b++)
            {
                var block = run.Slice(b * clusterSize, clusterSize);
                var firstCluster = plan.NewBlocks[first + b] * perBlock;
                for (var i = 0L; i < perBlock; i++)
                {
                    var cluster = firstCluster + i;
                    var refcount = cluster >= plan.TableStart && cluster < plan.End ? 1 : old.Get(cluster);
                    if (refcount != 0)
                        Refcounts.Set(block, i, newOrder, refcount);
                }
            }
            storage.Write((plan.BlocksStart + first) * (long)clusterSize, run);
        }
    }
}
