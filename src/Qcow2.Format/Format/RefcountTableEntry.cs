namespace Qcow2;

/// <summary>A refcount table entry (spec §4.4): the offset of a refcount block.</summary>
internal readonly record struct RefcountTableEntry(ulong Value)
{
    public const ulong ReservedMask = 0x1FF;

    public ulong BlockOffset => Value & ~ReservedMask;
    public bool HasReservedBits => (Value & ReservedMask) != 0;
}
