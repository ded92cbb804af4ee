namespace Qcow2;

/// <summary>The guest address split of an image (spec §4.1).</summary>
internal readonly record struct L1L2Geometry(int ClusterBits, bool ExtendedL2)
{
    /// <summary>L2 entries per table: cs/8, or cs/16 with 128-bit extended entries.</summary>
    public long L2Entries => 1L << (ClusterBits - (ExtendedL2 ? 4 : 3));

    /// <summary>The L1 entries needed for <paramref name="virtualSize"/>: ceil(size / (cs · l2_entries)), without overflow.</summary>
    public ulong RequiredL1Entries(ulong virtualSize)
    {
        var shift = ClusterBits + (ClusterBits - (ExtendedL2 ? 4 : 3));
        return (virtualSize >> shift) + ((virtualSize & ((1UL << shift) - 1)) != 0 ? 1UL : 0UL);
    }
}
