using BinaryFormat;

namespace Qcow2;

/// <summary>A refcount table entry (spec §4.4): the offset of a refcount block; the low 9 bits are reserved.</summary>
[BinaryFormat(ByteOrder.BigEndian)]
internal partial struct RefcountTableEntry
{
    private const int OffsetFirstBit = 9;

    /// <summary>Bits 9..63 in place: the refcount block's byte offset.</summary>
    public const ulong OffsetMask = ulong.MaxValue << OffsetFirstBit;
    public const ulong ReservedMask = ~OffsetMask;

    public RefcountTableEntry(ulong value) => Value = value;

    [Field]
    public ulong Value { get; set; }

    /// <summary>The reserved bits 0..8: QEMU's check reports them.</summary>
    [Bits(nameof(Value), 0, OffsetFirstBit)]
    public partial ushort ReservedBits { get; set; }

    public ulong BlockOffset => Value & OffsetMask;
    public bool HasReservedBits => (Value & ReservedMask) != 0;
}
