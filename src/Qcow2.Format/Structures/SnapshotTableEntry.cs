using BinaryFormat;

namespace Qcow2;

/// <summary>
/// The fixed 40 bytes of a snapshot table entry (spec §4.5); extra data, the id, the name and padding follow.
/// Open enforces only the extra-data limit, as QEMU does; the snapshot L1 rules are reported by <c>check</c>.
/// </summary>
[BinaryFormat(ByteOrder.BigEndian)]
internal partial struct SnapshotTableEntryHeader
{
    [Field(0), AlignedTo(ContextKey = ContextKeys.ClusterSize)]
    public ulong L1TableOffset { get; set; }

    [Field(8), Range(0, Limits.MaxL1Entries)]
    public uint L1Size { get; set; }

    [Field(12)]
    public ushort IdSize { get; set; }

    [Field(14)]
    public ushort NameSize { get; set; }

    [Field(16)]
    public uint DateSeconds { get; set; }

    [Field(20)]
    public uint DateNanoseconds { get; set; }

    [Field(24)]
    public ulong VmClockNanoseconds { get; set; }

    [Field(32)]
    public uint VmStateSize { get; set; }

    [Field(36), Range(0, Limits.MaxSnapshotExtraData)]
    public uint ExtraDataSize { get; set; }
}
