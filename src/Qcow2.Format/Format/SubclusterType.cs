namespace Qcow2;

/// <summary>
/// What one subcluster of a guest cluster reads from (QEMU's <c>QCow2SubclusterType</c>). Without extended L2 entries a
/// cluster is its only subcluster.
/// </summary>
internal enum SubclusterType
{
    /// <summary>Data in the host cluster.</summary>
    Normal,

    /// <summary>Part of a compressed cluster.</summary>
    Compressed,

    /// <summary>Reads as zeros; the cluster has no host cluster.</summary>
    ZeroPlain,

    /// <summary>Reads as zeros; the cluster has a host cluster.</summary>
    ZeroAllocated,

    /// <summary>Reads from the backing file (or as zeros); the cluster has no host cluster.</summary>
    UnallocatedPlain,

    /// <summary>Reads from the backing file (or as zeros) although the cluster has a host cluster.</summary>
    UnallocatedAllocated,

    /// <summary>The subcluster bitmap contradicts itself or the entry; QEMU fails I/O on it.</summary>
    Invalid,
}
