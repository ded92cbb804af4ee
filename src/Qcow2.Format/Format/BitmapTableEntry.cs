using BinaryFormat;

namespace Qcow2;

/// <summary>A bitmap table entry (spec §3.4).</summary>
internal readonly record struct BitmapTableEntry(ulong Value)
{
    public const ulong ReservedMask = 0xFF000000000001FE;
    public const ulong OffsetMask = 0x00FFFFFFFFFFFE00;
    public const ulong AllOnesFlag = 1;

    public ulong Offset => Value & OffsetMask;

    /// <summary>QEMU's <c>check_table_entry</c>.</summary>
    public bool IsValid(long clusterSize) =>
        (Value & ReservedMask) == 0 && (Offset == 0 || ((Value & AllOnesFlag) == 0 && Offset % (ulong)clusterSize == 0));

    /// <summary>QEMU's table size for a bitmap: ceil(ceil(ceil(size / gran) / 64) · 8 / cs).</summary>
    public static ulong RequiredTableSize(ulong virtualSize, int granularityBits, long clusterSize)
    {
        var bits = Align.DivideRoundUp(virtualSize, 1UL << granularityBits);
        var bytes = Align.DivideRoundUp(bits, 64) * 8;
        return Align.DivideRoundUp(bytes, (ulong)clusterSize);
    }
}
