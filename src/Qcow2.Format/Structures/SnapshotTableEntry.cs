using BinaryFormat;

namespace Qcow2;

/// <summary>
/// A snapshot table entry (spec §4.5): 40 fixed bytes, extra data, the id and the name. Entries start at multiples of 8
/// and the last one has no padding after it, so the table walk, not the entry, aligns.
/// Open enforces only the extra-data limit, as QEMU does; the snapshot L1 rules are QEMU's messages in snapshot apply,
/// delete and <c>check</c>.
/// </summary>
[BinaryFormat(ByteOrder.BigEndian)]
internal sealed partial class SnapshotTableEntry
{
    /// <summary>The bytes of the fixed members; the extra data starts there.</summary>
    public const int HeadSize = 40;

    [Field]
    public ulong L1TableOffset { get; set; }

    [Field]
    public uint L1Size { get; set; }

    /// <summary>The length of <see cref="Id"/>; <c>Write</c> fills it in.</summary>
    [Field]
    public ushort IdSize { get; set; }

    /// <summary>The length of <see cref="Name"/>; <c>Write</c> fills it in.</summary>
    [Field]
    public ushort NameSize { get; set; }

    [Field]
    public uint DateSeconds { get; set; }

    [Field]
    public uint DateNanoseconds { get; set; }

    [Field]
    public ulong VmClockNanoseconds { get; set; }

    /// <summary>The 32-bit VM state size; <see cref="SnapshotExtraData.VmStateSizeLarge"/> replaces it when present.</summary>
    [Field]
    public uint VmStateSize { get; set; }

    /// <summary>The length of <see cref="Extra"/>; <c>Write</c> fills it in.</summary>
    [Field, Range(0, Limits.MaxSnapshotExtraData)]
    public uint ExtraDataSize { get; set; }

    [Field(HeadSize), Length(nameof(ExtraDataSize)), Args(nameof(ExtraDataSize))]
    public SnapshotExtraData Extra { get; set; } = new();

    /// <summary>The id's bytes. Bytes, not a string: QEMU accepts any, and the library decodes them leniently.</summary>
    [Field, Length(nameof(IdSize))]
    public byte[] Id { get; set; } = [];

    /// <summary>The name's bytes, decoded leniently like <see cref="Id"/>.</summary>
    [Field, Length(nameof(NameSize))]
    public byte[] Name { get; set; } = [];
}
