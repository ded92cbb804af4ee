namespace Qcow2;

/// <summary>The counters of one pass, as QEMU's <c>BdrvCheckResult</c>.</summary>
internal struct CheckCounters
{
    public long CheckErrors;
    public long Corruptions;
    public long Leaks;
    public long CorruptionsFixed;
    public long LeaksFixed;
    public long ImageEndOffset;
    public long TotalClusters;
    public long AllocatedClusters;
    public long FragmentedClusters;
    public long CompressedClusters;
}
