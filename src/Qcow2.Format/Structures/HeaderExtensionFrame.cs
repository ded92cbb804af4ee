using BinaryFormat;

namespace Qcow2;

/// <summary>One header extension as cluster 0 holds it (spec §2.1): magic, length, data, padding to a multiple of 8.</summary>
[BinaryFormat(ByteOrder.BigEndian)]
internal sealed partial class HeaderExtensionFrame
{
    /// <summary>The magic of the frame that ends the extension area.</summary>
    public const uint EndMagic = 0;

    /// <summary>Where <see cref="Data"/> starts in the frame (after magic and length).</summary>
    public const int DataOffset = 8;

    [Field]
    public uint Magic { get; set; }

    /// <summary>The length of <see cref="Data"/>; <c>Write</c> fills it in.</summary>
    [Field]
    public uint Length { get; set; }

    [Field, Length(nameof(Length))]
    public byte[] Data { get; set; } = [];

    /// <summary>Not checked by QEMU, which writes zeros; a new frame leaves it empty, so zeros are written.</summary>
    [Field, PadTo(8)]
    public byte[] Padding { get; set; } = [];
}
