using BinaryFormat;

namespace Qcow2;

/// <summary>
/// A snapshot's extra data (spec §4.5): each known field is present when extra_data_size covers it, and what a newer
/// writer added after them is kept byte for byte.
/// </summary>
[BinaryFormat(ByteOrder.BigEndian)]
internal sealed partial class SnapshotExtraData
{
    /// <summary>The size QEMU writes: all three known fields.</summary>
    public const uint KnownSize = 24;

    /// <summary>extra_data_size of the containing entry.</summary>
    [Argument]
    public uint Size { get; set; }

    [Field, PresentWhen(nameof(Size), Comparison.GreaterOrEqual, 8)]
    public ulong VmStateSizeLarge { get; set; }

    [Field, PresentWhen(nameof(Size), Comparison.GreaterOrEqual, 16)]
    public ulong DiskSize { get; set; }

    [Field, PresentWhen(nameof(Size), Comparison.GreaterOrEqual, KnownSize)]
    public ulong Icount { get; set; }

    /// <summary>The bytes after the known fields (or a known field only partly covered), written back unchanged.</summary>
    [Field, Length(ToEnd = true)]
    public byte[] Unknown { get; set; } = [];
}
