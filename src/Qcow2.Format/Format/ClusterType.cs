namespace Qcow2;

/// <summary>What an L2 entry maps its guest cluster to (QEMU's <c>QCow2ClusterType</c>, spec §4.3); see <see cref="ClusterClassifier"/>.</summary>
internal enum ClusterType
{
    /// <summary>No host cluster: the guest cluster reads from the backing file, or as zeros without one.</summary>
    Unallocated,

    /// <summary>Reads as zeros and has no host cluster (standard L2 entries only).</summary>
    ZeroPlain,

    /// <summary>Reads as zeros and keeps a preallocated host cluster (standard L2 entries only).</summary>
    ZeroAllocated,

    /// <summary>A host data cluster; with extended L2 entries the subcluster bitmap says which parts hold data.</summary>
    Normal,

    /// <summary>A compressed cluster (its host range is <see cref="L2Entry.CompressedRange"/>).</summary>
    Compressed,
}
