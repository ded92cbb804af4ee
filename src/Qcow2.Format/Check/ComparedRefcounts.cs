using System.Buffers;

namespace Qcow2;

/// <summary>What <see cref="RefcountComparisonPass"/> found, and the refcounts on disk after its repairs.</summary>
internal sealed class ComparedRefcounts(CheckContext context, InMemoryRefcounts computed, Dictionary<long, ulong> unfixedOnDisk,
    long highestCluster, bool needsRebuild, CheckCounters counters)
{
    /// <summary>The highest cluster with a reference or a refcount (QEMU's <c>highest_cluster</c>, for the image end offset).</summary>
    public long HighestCluster { get; } = highestCluster;

    /// <summary>Whether a refcount of 0 was found where there are references: only a rebuild can repair that.</summary>
    public bool NeedsRebuild { get; } = needsRebuild;

    /// <summary>The leaks and corruptions found, and those repaired.</summary>
    public CheckCounters Counters { get; } = counters;

    /// <summary>Whether some refcount on disk still differs from the references counted (it was reported, not repaired).</summary>
    public bool HasUnrepaired => unfixedOnDisk.Count != 0;

    /// <summary>The refcount on disk after the comparison (and its repairs), without reading it again.</summary>
    public bool TryGetOnDiskRefcount(long cluster, out ulong refcount)
    {
        if (unfixedOnDisk.Count != 0 && unfixedOnDisk.TryGetValue(cluster, out refcount))
            return true;
        if (cluster < computed.Count)
        {
            var index = cluster >> context.RefcountBlockBits;
            var block = context.RefcountTable.Length > index ? new RefcountTableEntry(context.RefcountTable[index]).BlockOffset : 0;
            refcount = computed[cluster];
            return context.Readable(block);
        }
        return TryReadRefcount(cluster, out refcount);
    }

    /// <summary>QEMU's <c>qcow2_get_refcount</c>, straight from disk (for clusters past the computed range).</summary>
    private bool TryReadRefcount(long cluster, out ulong refcount)
    {
        refcount = 0;
        var index = cluster >> context.RefcountBlockBits;
        if (index >= context.RefcountTable.Length)
            return true;
        var offset = new RefcountTableEntry(context.RefcountTable[index]).BlockOffset;
        if (offset == 0)
            return true;
        if (!context.Readable(offset))
            return false;
        var block = ArrayPool<byte>.Shared.Rent(context.ClusterSize);
        try
        {
            context.Storage.Read((long)offset, block.AsSpan(0, context.ClusterSize));
            refcount = Refcounts.Get(block, cluster & (context.RefcountsPerBlock - 1), context.RefcountOrder);
            return true;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(block);
        }
    }
}
