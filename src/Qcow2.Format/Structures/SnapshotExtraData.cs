using BinaryFormat;

namespace Qcow2;

/// <summary>The known part of a snapshot's extra data (spec §4.5); a field counts only when extra_data_size covers it.</summary>
[BinaryFormat(ByteOrder.BigEndian)]
internal partial struct SnapshotExtraData
{
    [Field(0)]
    public ulong VmStateSizeLarge { get; set; }

    [Field(8)]
    public ulong DiskSize { get; set; }

    [Field(16)]
    public ulong Icount { get; set; }
}
