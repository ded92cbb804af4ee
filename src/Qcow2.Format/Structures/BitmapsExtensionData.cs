using BinaryFormat;

namespace Qcow2;

/// <summary>The data of the bitmaps header extension (spec §3.1).</summary>
[BinaryFormat(ByteOrder.BigEndian)]
internal partial struct BitmapsExtensionData
{
    [Field(0), Range(1, Limits.MaxBitmaps)]
    public uint NbBitmaps { get; set; }

    [Field(4), Reserved]
    public uint Reserved32 { get; set; }

    [Field(8), Range(1, Limits.MaxBitmapDirectorySize)]
    public ulong DirectorySize { get; set; }

    [Field(16), AlignedTo(ContextKey = ContextKeys.ClusterSize)]
    public ulong DirectoryOffset { get; set; }
}
