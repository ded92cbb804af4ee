using BinaryFormat;

namespace Qcow2;

/// <summary>A bitmap table entry (spec §3.4).</summary>
/// <remarks>The bit positions are declared once; the masks, for code that works on raw words, follow from them.</remarks>
[BinaryFormat(ByteOrder.BigEndian)]
internal partial struct BitmapTableEntry
{
    private const int OffsetFirstBit = 9;
    private const int OffsetBitCount = 47;
    private const int AllOnesBit = 0;

    /// <summary>Bits 9..55 in place: the data cluster's byte offset.</summary>
    public const ulong OffsetMask = ((1UL << OffsetBitCount) - 1) << OffsetFirstBit;
    public const ulong AllOnesFlag = 1UL << AllOnesBit;
    public const ulong ReservedMask = ~(OffsetMask | AllOnesFlag);

    public BitmapTableEntry(ulong value) => Value = value;

    [Field]
    public ulong Value { get; set; }

    /// <summary>With offset 0: the cluster's bits are all ones (all zeros when clear).</summary>
    [Bits(nameof(Value), AllOnesBit, 1)]
    public partial bool AllOnes { get; set; }

    public ulong Offset => Value & OffsetMask;

    /// <summary>QEMU's <c>check_table_entry</c>.</summary>
    public bool IsValid(long clusterSize) =>
        (Value & ReservedMask) == 0 && (Offset == 0 || (!AllOnes && Offset % (ulong)clusterSize == 0));

    /// <summary>QEMU's table size for a bitmap: ceil(ceil(ceil(size / gran) / 64) · 8 / cs).</summary>
    public static ulong RequiredTableSize(ulong virtualSize, int granularityBits, long clusterSize)
    {
        var bits = Align.DivideRoundUp(virtualSize, 1UL << granularityBits);
        var bytes = Align.DivideRoundUp(bits, 64) * 8;
        return Align.DivideRoundUp(bytes, (ulong)clusterSize);
    }
}
