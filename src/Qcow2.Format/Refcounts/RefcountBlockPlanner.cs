namespace Qcow2;

/// <summary>
/// Plans new refcount blocks (and, when asked, a new refcount table) for clusters placed after everything in use: the one
/// answer for allocation, refcount-table growth and the check's rebuild. The blocks must describe the payload, the table and
/// themselves, and the table must reach every block; each new block can make more of them necessary, so the plan grows until
/// it is stable (it converges, since each block describes far more clusters than it takes).
/// </summary>
internal static class RefcountBlockPlanner
{
    /// <param name="start">The first new cluster.</param>
    /// <param name="payloadClusters">Clusters to allocate for the caller before the refcount structures.</param>
    /// <param name="refcountsPerBlock">Refcount entries per block.</param>
    /// <param name="clusterSize">The cluster size in bytes.</param>
    /// <param name="hasBlock">Whether a refcount table index already has a block that stays in use.</param>
    /// <param name="newTable">Whether a new refcount table is written along with the blocks.</param>
    /// <param name="minimumTableEntries">The least number of entries the new table must have.</param>
    /// <param name="neededElsewhere">
    /// Indexes below the new clusters that need a block too (a rebuild describes every counted cluster); null when only the
    /// new clusters need describing.
    /// </param>
    public static RefcountPlacement Plan(long start, long payloadClusters, long refcountsPerBlock, int clusterSize, Func<long, bool> hasBlock,
        bool newTable = false, long minimumTableEntries = 0, Func<long, bool>? neededElsewhere = null)
    {
        var entriesPerCluster = clusterSize / sizeof(ulong);
        long TableClustersFor(long entries) => newTable ? Math.Max(1, (entries + entriesPerCluster - 1) / entriesPerCluster) : 0;

        var tableClusters = TableClustersFor(minimumTableEntries);
        var blocks = new List<long>();
        while (true)
        {
            var end = start + payloadClusters + tableClusters + blocks.Count;
            var firstNew = start / refcountsPerBlock;
            var indexEnd = (end + refcountsPerBlock - 1) / refcountsPerBlock;
            var needed = new List<long>();
            for (var index = neededElsewhere is null ? firstNew : 0; index < indexEnd; index++)
            {
                if ((index >= firstNew || neededElsewhere!(index)) && !hasBlock(index))
                    needed.Add(index);
            }
            var tableEntries = Math.Max(minimumTableEntries, indexEnd);
            var neededTableClusters = TableClustersFor(tableEntries);
            if (neededTableClusters == tableClusters && needed.Count == blocks.Count)
                return new RefcountPlacement(start, payloadClusters, tableClusters, tableEntries, needed);
            tableClusters = neededTableClusters;
            blocks = needed;
        }
    }
}
