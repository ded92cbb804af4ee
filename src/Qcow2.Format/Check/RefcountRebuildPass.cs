namespace Qcow2;

/// <summary>QEMU's <c>rebuild_refcount_structure</c>, with the new structures placed where no old one can overlap them.</summary>
internal static class RefcountRebuildPass
{
    /// <summary>
    /// Writes a new refcount table and blocks that describe exactly the computed refcounts (and themselves), then switches the
    /// header to them with one 12-byte write. Everything new goes after the end of the file and after every cluster the old
    /// table points at, so no old structure, however broken, can overlap it. A crash before the switch leaves the old
    /// structures in force; after it, the old ones are merely leaked.
    /// </summary>
    public static void Run(CheckContext context, InMemoryRefcounts computed, long claimedEnd)
    {
        var storage = context.Storage;
        var clusterSize = context.ClusterSize;
        var refcountsPerBlock = context.RefcountsPerBlock;

        // After the end of the file, and after every counted cluster: a range counted although it ends (by less than a cluster)
        // past the end of the file, as QEMU counts it, so that the grown file has it inside with its refcount.
        var start = Math.Max(context.ClustersFor(storage.Length), computed.Count);
        foreach (var value in context.RefcountTable)
        {
            var offset = new RefcountTableEntry(value).BlockOffset;
            // Past the end of the file there is nothing to overlap (a block outside the image was either moved inside by
            // growing the file, or could not be), and a hostile offset there would put the new structures out of reach.
            if (offset != 0 && offset < (ulong)storage.Length)
                start = Math.Max(start, (long)(offset >> context.ClusterBits) + 1);
        }

        // Metadata that claims uncounted clusters past the end of the file (a table longer than the file) must not be grown
        // over: the new structures would be read as that metadata, and the claimed clusters would count with refcount 0. Leave
        // such an image as it is rather than make it worse.
        if (context.ClustersFor(claimedEnd) > context.ClustersFor(storage.Length))
            throw new CheckFailedException($"File too large: the metadata claims clusters up to {context.ClustersFor(claimedEnd)}, past the end of the file, where rebuilt refcount structures would land");
        if ((ulong)start / (ulong)refcountsPerBlock >= (ulong)Limits.MaxRefcountTableBytes / sizeof(ulong))
            throw new CheckFailedException($"File too large: a refcount table reaching cluster {start} would be larger than {Limits.MaxRefcountTableBytes} bytes");

        // The new table and blocks must count themselves; every index with a counted cluster gets a new block.
        var plan = RefcountBlockPlanner.Plan(start, 0, refcountsPerBlock, clusterSize, hasBlock: _ => false, newTable: true,
            neededElsewhere: index => computed.AnyInRange(index * refcountsPerBlock, refcountsPerBlock));
        if (plan.TableClusters * clusterSize > Limits.MaxRefcountTableBytes)
            throw new CheckFailedException($"File too large: the rebuilt refcount table would need {plan.TableClusters} clusters, more than {Limits.MaxRefcountTableBytes} bytes");

        for (var c = plan.Start; c < plan.End; c++)
            computed.Set(c, 1);
        var newTable = new ulong[plan.TableClusters * clusterSize / sizeof(ulong)];
        var blocks = new byte[plan.NewBlocks.Count * clusterSize];
        for (var b = 0; b < plan.NewBlocks.Count; b++)
        {
            var r = plan.NewBlocks[b];
            var block = blocks.AsSpan(b * clusterSize, clusterSize);
            var first = r * refcountsPerBlock;
            for (long index = 0; index < refcountsPerBlock && first + index < computed.Count; index++)
            {
                var value = computed[first + index];
                if (value != 0)
                    Refcounts.Set(block, index, context.RefcountOrder, value);
            }
            newTable[r] = (ulong)((plan.BlocksStart + b) * clusterSize);
        }

        var tableOffset = plan.TableStart * clusterSize;
        storage.Write(plan.BlocksStart * clusterSize, blocks);
        EntryTable.Write(storage, tableOffset, newTable);
        storage.Flush();

        HeaderFieldUpdates.SwitchRefcountTable(storage, context.Image, tableOffset, (uint)plan.TableClusters);
        context.LoadRefcountTable();
    }
}
