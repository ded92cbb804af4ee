using BinaryFormat;

namespace Qcow2;

/// <summary>The first (or only) 64-bit word of an L2 entry (spec §4.3). What it maps to is <see cref="ClusterClassifier"/>'s to say.</summary>
/// <remarks>The bit positions are declared once; the masks, for code that works on raw words, follow from them.</remarks>
[BinaryFormat(ByteOrder.BigEndian)]
internal partial struct L2Entry : IEquatable<L2Entry>
{
    private const int CopiedBit = 63;
    private const int CompressedBit = 62;
    private const int OffsetFirstBit = 9;
    private const int OffsetBitCount = 47;
    private const int ZeroBit = 0;

    public const ulong CopiedFlag = 1UL << CopiedBit;
    public const ulong CompressedFlag = 1UL << CompressedBit;
    public const ulong ZeroFlag = 1UL << ZeroBit;

    /// <summary>Bits 9..55 in place: the host cluster's byte offset (of a standard, not a compressed, cluster).</summary>
    public const ulong OffsetMask = ((1UL << OffsetBitCount) - 1) << OffsetFirstBit;
    public const ulong ReservedMask = ~(CopiedFlag | CompressedFlag | OffsetMask | ZeroFlag);

    public L2Entry(ulong value) => Value = value;

    [Field]
    public ulong Value { get; set; }

    [Bits(nameof(Value), CopiedBit, 1)]
    public partial bool Copied { get; set; }

    [Bits(nameof(Value), CompressedBit, 1)]
    public partial bool Compressed { get; set; }

    /// <summary>The host cluster's offset in units of 512 bytes, for a standard cluster (<see cref="HostOffset"/> is the byte offset).</summary>
    [Bits(nameof(Value), OffsetFirstBit, OffsetBitCount)]
    public partial ulong HostOffsetSectors { get; set; }

    /// <summary>The zero flag of a standard entry (version 3, without extended L2 entries).</summary>
    [Bits(nameof(Value), ZeroBit, 1)]
    public partial bool Zero { get; set; }

    public ulong HostOffset => Compressed ? 0 : Value & OffsetMask;
    public bool HasReservedBits => !Compressed && (Value & ReservedMask) != 0;

    /// <summary>The same entry with COPIED set or cleared.</summary>
    public L2Entry WithCopied(bool copied) => new(Value) { Copied = copied };

    public static bool operator ==(L2Entry left, L2Entry right) => left.Value == right.Value;

    public static bool operator !=(L2Entry left, L2Entry right) => left.Value != right.Value;

    public bool Equals(L2Entry other) => Value == other.Value;

    public override bool Equals(object? obj) => obj is L2Entry other && Equals(other);

    public override int GetHashCode() => Value.GetHashCode();

    /// <summary>
    /// The host byte range of a compressed cluster (spec §4.3): the offset is the low 62 − (cluster_bits − 8) bits, then the
    /// number of additional 512-byte sectors; the length is those sectors minus the offset into the first one.
    /// </summary>
    public (long Offset, long Length) CompressedRange(int clusterBits)
    {
        var shift = CompressedBit - (clusterBits - 8);
        var offset = Value & ((1UL << shift) - 1);
        var sectors = ((Value >> shift) & ((1UL << (clusterBits - 8)) - 1)) + 1;
        return ((long)offset, (long)(sectors * 512 - (offset & 511)));
    }
}
