namespace Qcow2;

/// <summary>The incompatible_features bits (spec §1.2): a program that does not know a set bit must not open the image.</summary>
[Flags]
public enum Qcow2IncompatibleFeatures : ulong
{
    /// <summary>No bit set.</summary>
    None = 0,

    /// <summary>Bit 0: refcounts may be stale (lazy refcounts after a crash); a writable open repairs them.</summary>
    Dirty = 1UL << 0,

    /// <summary>Bit 1: QEMU found corruption; the image opens read-only only.</summary>
    Corrupt = 1UL << 1,

    /// <summary>Bit 2: guest data lives in an external data file.</summary>
    ExternalDataFile = 1UL << 2,

    /// <summary>Bit 3: the compression type field is not zlib.</summary>
    CompressionType = 1UL << 3,

    /// <summary>Bit 4: L2 entries are 128-bit with 32 subclusters.</summary>
    ExtendedL2 = 1UL << 4,
}
