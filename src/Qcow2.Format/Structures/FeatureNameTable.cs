using BinaryFormat;

namespace Qcow2;

/// <summary>The data of the feature name table extension (spec §2.2): entries until the extension's length is used up.</summary>
[BinaryFormat(ByteOrder.BigEndian)]
internal sealed partial class FeatureNameTable
{
    [Field, Length(ToEnd = true)]
    public FeatureNameTableEntry[] Entries { get; set; } = [];
}
