namespace Qcow2;

/// <summary>A refcount table entry (spec §4.4): the offset of a refcount block; the low 9 bits are reserved.</summary>
internal readonly record struct RefcountTableEntry(ulong Value)
{
    public const ulong ReservedMask = 0x1FF;
    public const ulong OffsetMask = ~ReservedMask;

    public ulong BlockOffset => Value & OffsetMask;
    public bool HasReservedBits => (Value & ReservedMask) != 0;
}
