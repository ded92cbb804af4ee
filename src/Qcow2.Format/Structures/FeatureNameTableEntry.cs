using BinaryFormat;

namespace Qcow2;

/// <summary>One 48-byte entry of the feature name table extension (spec §2.2).</summary>
[BinaryFormat(ByteOrder.BigEndian)]
internal partial struct FeatureNameTableEntry
{
    public const int NameLength = 46;

    [Field]
    public byte Type { get; set; }

    [Field]
    public byte Bit { get; set; }

    /// <summary>Padded with NULs; no NUL when the name takes all 46 bytes. Bytes, not a string: QEMU prints whatever is there.</summary>
    [Field, Length(NameLength)]
    public byte[] Name { get; set; }
}
