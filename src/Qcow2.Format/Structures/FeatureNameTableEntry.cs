using BinaryFormat;

namespace Qcow2;

/// <summary>One 48-byte entry of the feature name table extension (spec §2.2).</summary>
[BinaryFormat(ByteOrder.BigEndian)]
internal partial struct FeatureNameTableEntry
{
    public const int NameLength = 46;

    [Field(0)]
    public byte Type { get; set; }

    [Field(1)]
    public byte Bit { get; set; }

    [Field(2, Length = NameLength)]
    public byte[] Name { get; set; }
}
