using BinaryFormat;

namespace Qcow2;

/// <summary>The 8-byte frame in front of every header extension (spec §2.1); the data is padded to 8 bytes.</summary>
[BinaryFormat(ByteOrder.BigEndian)]
internal partial struct HeaderExtensionHeader
{
    [Field(0)]
    public uint Magic { get; set; }

    [Field(4)]
    public uint Length { get; set; }
}
