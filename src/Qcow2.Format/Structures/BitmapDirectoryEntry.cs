using BinaryFormat;

namespace Qcow2;

/// <summary>
/// A bitmap directory entry (spec §3.3): 24 fixed bytes, extra data, the name, padding to a multiple of 8.
/// The declared rules and <see cref="OnValidate"/> are QEMU's <c>check_dir_entry</c>; the hook needs the context keys
/// <see cref="ContextKeys.ClusterSize"/> and <see cref="ContextKeys.VirtualSize"/>.
/// </summary>
[BinaryFormat(ByteOrder.BigEndian)]
internal partial struct BitmapDirectoryEntry
{
    public const uint InUseFlag = 1;

    /// <summary>Where <see cref="Flags"/> is in the entry, for the in-place update a repair makes.</summary>
    public const int FlagsOffset = 12;
    public const uint AutoFlag = 2;
    public const byte DirtyTrackingType = 1;
    public const uint MaxTableEntries = 0x8000000;
    public const ulong MaxTableBytes = 0x20000000;

    /// <summary>The bytes of the fixed members; the extra data starts there.</summary>
    public const int HeadSize = 24;

    [Field, AlignedTo(ContextKey = ContextKeys.ClusterSize)]
    public ulong TableOffset { get; set; }

    [Field, Range(1, MaxTableEntries)]
    public uint TableSize { get; set; }

    [Field(FlagsOffset), FlagsField(InUseFlag | AutoFlag, RejectUnknown = true)]
    public uint Flags { get; set; }

    [Field, OneOf(DirtyTrackingType)]
    public byte Type { get; set; }

    [Field, Range(9, 31)]
    public byte GranularityBits { get; set; }

    [Field, Range(0, Limits.MaxNameSize)]
    public ushort NameSize { get; set; }

    [Field, Range(0, 0)]
    public uint ExtraDataSize { get; set; }

    /// <summary>Always empty in a valid entry: QEMU refuses extra data.</summary>
    [Field(HeadSize), Length(nameof(ExtraDataSize))]
    public byte[] ExtraData { get; set; }

    /// <summary>The name's bytes, without NUL. Bytes, not a string: QEMU accepts any, and the library decodes them leniently.</summary>
    [Field, Length(nameof(NameSize))]
    public byte[] Name { get; set; }

    /// <summary>Not checked by QEMU, which writes zeros.</summary>
    [Field, PadTo(8)]
    public byte[] Padding { get; set; }

    partial void OnValidate(ref BinaryFormatValidator validator)
    {
        if (TableOffset == 0)
            validator.Report(nameof(TableOffset), 0, "0", "a non-zero offset");
        if (validator.Context is null
            || !validator.Context.TryGetValue(ContextKeys.ClusterSize, out var clusterSize)
            || !validator.Context.TryGetValue(ContextKeys.VirtualSize, out var virtualSize))
            return;
        var tableBytes = (ulong)TableSize * (ulong)clusterSize;
        if (tableBytes > MaxTableBytes)
            validator.Report(nameof(TableSize), 8, BinaryFormatValidator.Format(TableSize), $"at most {MaxTableBytes / (ulong)clusterSize} clusters (512 MiB of bitmap data)");
        // A consistent bitmap must cover the disk; an in-use one may be stale after a resize (QEMU tolerates that).
        else if ((Flags & InUseFlag) == 0 && GranularityBits is >= 9 and <= 31 && (ulong)virtualSize > ((tableBytes * 8) << GranularityBits))
            validator.Report(nameof(TableSize), 8, BinaryFormatValidator.Format(TableSize), $"enough clusters to cover the virtual size {virtualSize}");
    }
}
