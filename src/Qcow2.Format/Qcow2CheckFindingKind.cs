namespace Qcow2;

/// <summary>The kind of a <see cref="Qcow2CheckFinding"/>, after QEMU's classification.</summary>
public enum Qcow2CheckFindingKind
{
    /// <summary>A cluster's refcount on disk is higher than its references: wasted space, no harm to data.</summary>
    Leak,
    /// <summary>A cluster's refcount on disk is lower than its references (but not zero).</summary>
    RefcountTooLow,
    /// <summary>A referenced cluster has refcount 0: the refcount structures need a rebuild.</summary>
    RefcountZero,
    /// <summary>The COPIED flag of an L1 or L2 entry disagrees with the refcount.</summary>
    CopiedFlag,
    /// <summary>Reserved bits are set in an L1, L2 or refcount-table entry.</summary>
    ReservedBits,
    /// <summary>A table, refcount block or data cluster offset is not cluster-aligned.</summary>
    Unaligned,
    /// <summary>A reference reaches one cluster or more past the end of the file.</summary>
    PastEndOfFile,
    /// <summary>A cluster is referenced more often than the refcount width can count.</summary>
    RefcountOverflow,
    /// <summary>A refcount block is outside the image or has a refcount other than 1.</summary>
    RefcountBlock,
    /// <summary>A snapshot table entry is broken.</summary>
    Snapshot,
    /// <summary>Other inconsistencies of the cluster mapping (subcluster bitmaps, compressed-cluster flags, bitmap tables).</summary>
    Mapping,
    /// <summary>The refcount of a cluster could not be read (counted as an internal check error).</summary>
    CheckError,
    /// <summary>The refcount structures are rebuilt from scratch, need a rebuild that was not allowed, or are still broken after one.</summary>
    RefcountRebuild,
}
