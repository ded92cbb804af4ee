namespace Qcow2;

/// <summary>The first (or only) 64-bit word of an L2 entry (spec §4.3). What it maps to is <see cref="ClusterClassifier"/>'s to say.</summary>
internal readonly record struct L2Entry(ulong Value)
{
    public const ulong OffsetMask = 0x00FFFFFFFFFFFE00;
    public const ulong ReservedMask = 0x3F000000000001FE;
    public const ulong CopiedFlag = 1UL << 63;
    public const ulong CompressedFlag = 1UL << 62;
    public const ulong ZeroFlag = 1;

    public bool Copied => (Value & CopiedFlag) != 0;
    public bool Compressed => (Value & CompressedFlag) != 0;
    public ulong HostOffset => Compressed ? 0 : Value & OffsetMask;
    public bool HasReservedBits => !Compressed && (Value & ReservedMask) != 0;

    /// <summary>The same entry with COPIED set or cleared.</summary>
    public L2Entry WithCopied(bool copied) => new(copied ? Value | CopiedFlag : Value & ~CopiedFlag);

    /// <summary>
    /// The host byte range of a compressed cluster (spec §4.3): the offset is the low 62 − (cluster_bits − 8) bits, then the
    /// number of additional 512-byte sectors; the length is those sectors minus the offset into the first one.
    /// </summary>
    public (long Offset, long Length) CompressedRange(int clusterBits)
    {
        var shift = 62 - (clusterBits - 8);
        var offset = Value & ((1UL << shift) - 1);
        var sectors = ((Value >> shift) & ((1UL << (clusterBits - 8)) - 1)) + 1;
        return ((long)offset, (long)(sectors * 512 - (offset & 511)));
    }
}
