namespace Qcow2;

/// <summary>An L1 table entry (spec §4.2): the offset of an L2 table plus the COPIED flag.</summary>
internal readonly record struct L1Entry(ulong Value)
{
    public const ulong OffsetMask = 0x00FFFFFFFFFFFE00;
    public const ulong ReservedMask = 0x7F000000000001FF;
    public const ulong CopiedFlag = 1UL << 63;

    public ulong L2Offset => Value & OffsetMask;
    public bool Copied => (Value & CopiedFlag) != 0;
    public bool HasReservedBits => (Value & ReservedMask) != 0;

    /// <summary>The same entry with COPIED set or cleared.</summary>
    public L1Entry WithCopied(bool copied) => new(copied ? Value | CopiedFlag : Value & ~CopiedFlag);
}
