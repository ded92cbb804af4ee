using BinaryFormat;

namespace Qcow2;

/// <summary>An L1 table entry (spec §4.2): the offset of an L2 table plus the COPIED flag.</summary>
/// <remarks>The bit positions are declared once; the masks, for code that works on raw words, follow from them.</remarks>
[BinaryFormat(ByteOrder.BigEndian)]
internal partial struct L1Entry
{
    private const int CopiedBit = 63;
    private const int OffsetFirstBit = 9;
    private const int OffsetBitCount = 47;

    public const ulong CopiedFlag = 1UL << CopiedBit;

    /// <summary>Bits 9..55 in place: the L2 table's byte offset.</summary>
    public const ulong OffsetMask = ((1UL << OffsetBitCount) - 1) << OffsetFirstBit;
    public const ulong ReservedMask = ~(CopiedFlag | OffsetMask);

    public L1Entry(ulong value) => Value = value;

    [Field]
    public ulong Value { get; set; }

    [Bits(nameof(Value), CopiedBit, 1)]
    public partial bool Copied { get; set; }

    /// <summary>The L2 table's offset in units of 512 bytes (<see cref="L2Offset"/> is the byte offset).</summary>
    [Bits(nameof(Value), OffsetFirstBit, OffsetBitCount)]
    public partial ulong L2OffsetSectors { get; set; }

    public ulong L2Offset => Value & OffsetMask;

    public bool HasReservedBits => (Value & ReservedMask) != 0;

    /// <summary>The same entry with COPIED set or cleared.</summary>
    public L1Entry WithCopied(bool copied) => new(this.Value) { Copied = copied };
}
