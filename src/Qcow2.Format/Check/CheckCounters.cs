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

    /// <summary>Adds what another pass counted (the image-wide figures, end offset and total clusters, are not counts).</summary>
    public void Add(in CheckCounters other)
    {
        CheckErrors += other.CheckErrors;
        Corruptions += other.Corruptions;
        Leaks += other.Leaks;
        CorruptionsFixed += other.CorruptionsFixed;
        LeaksFixed += other.LeaksFixed;
        AllocatedClusters += other.AllocatedClusters;
        FragmentedClusters += other.FragmentedClusters;
        CompressedClusters += other.CompressedClusters;
    }
}
