namespace Qcow2;

/// <summary>
/// Where new clusters and the refcount structures that describe them go: from <see cref="Start"/>, first the payload (the
/// clusters being allocated, if any), then a new refcount table (if one is needed), then the new refcount blocks. Made by
/// <see cref="RefcountBlockPlanner"/>.
/// </summary>
/// <param name="Start">The first new cluster.</param>
/// <param name="PayloadClusters">The clusters allocated for the caller.</param>
/// <param name="TableClusters">The clusters of the new refcount table; 0 when the current table is kept.</param>
/// <param name="TableEntries">The entries the refcount table must have at least to reach every block.</param>
/// <param name="NewBlocks">The refcount table indexes that get a new block, ascending; block i goes to <see cref="BlocksStart"/> + i.</param>
internal sealed record RefcountPlacement(long Start, long PayloadClusters, long TableClusters, long TableEntries, IReadOnlyList<long> NewBlocks)
{
    public long TableStart => Start + PayloadClusters;

    public long BlocksStart => TableStart + TableClusters;

    /// <summary>The cluster just past everything new.</summary>
    public long End => BlocksStart + NewBlocks.Count;
}
