using BinaryFormat;

namespace Qcow2;

/// <summary>
/// The public part of a LUKS1 header (the 208 bytes before the key slots), where the full disk encryption extension points.
/// Only what <c>qemu-img info</c> shows is declared; no key material is read.
/// </summary>
[BinaryFormat(ByteOrder.BigEndian, Size = 208)]
internal partial class LuksHeader
{
    public const int KeySlotCount = 8;

    [Field(0), Magic(0x4C554B53)] // "LUKS"
    public uint MagicHigh { get; set; }

    [Field(4), Magic(0xBABE)]
    public ushort MagicLow { get; set; }

    [Field(8, Length = 32)]
    public byte[] CipherName { get; set; } = [];

    [Field(40, Length = 32)]
    public byte[] CipherMode { get; set; } = [];

    [Field(72, Length = 32)]
    public byte[] HashSpec { get; set; } = [];

    /// <summary>In 512-byte sectors.</summary>
    [Field(104)]
    public uint PayloadOffset { get; set; }

    [Field(108)]
    public uint KeyBytes { get; set; }

    [Field(164)]
    public uint MasterKeyIterations { get; set; }

    [Field(168, Length = 40)]
    public byte[] Uuid { get; set; } = [];
}

/// <summary>One of the eight 48-byte LUKS1 key slots that follow <see cref="LuksHeader"/>.</summary>
[BinaryFormat(ByteOrder.BigEndian)]
internal partial struct LuksKeySlotEntry
{
    public const uint ActiveMarker = 0x00AC71F3;

    [Field(0)]
    public uint Active { get; set; }

    [Field(4)]
    public uint Iterations { get; set; }

    /// <summary>In 512-byte sectors.</summary>
    [Field(40)]
    public uint KeyMaterialOffset { get; set; }

    [Field(44)]
    public uint Stripes { get; set; }
}
