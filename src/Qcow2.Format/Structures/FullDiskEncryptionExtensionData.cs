using BinaryFormat;

namespace Qcow2;

/// <summary>The full disk encryption header pointer extension (spec §2.2): where the LUKS header lives.</summary>
[BinaryFormat(ByteOrder.BigEndian)]
internal partial struct FullDiskEncryptionExtensionData
{
    [Field(0), AlignedTo(ContextKey = ContextKeys.ClusterSize)]
    public ulong Offset { get; set; }

    [Field(8)]
    public ulong Length { get; set; }
}
