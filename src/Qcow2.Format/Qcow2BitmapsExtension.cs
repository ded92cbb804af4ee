using BinaryFormat;

namespace Qcow2;

/// <summary>The bitmaps extension (magic 0x23852875): where the bitmap directory is.</summary>
public sealed class Qcow2BitmapsExtension : Qcow2HeaderExtension
{
    internal const uint MagicValue = 0x23852875;

    internal Qcow2BitmapsExtension(BitmapsExtensionData data) : base(MagicValue) => Data = data;

    internal BitmapsExtensionData Data { get; }

    /// <summary>The number of bitmaps in the directory.</summary>
    public int BitmapCount => (int)Data.NbBitmaps;

    /// <summary>The directory's size in bytes.</summary>
    public long DirectorySize => (long)Data.DirectorySize;

    /// <summary>The directory's file offset.</summary>
    public long DirectoryOffset => (long)Data.DirectoryOffset;

    internal override byte[] EncodeData() => Encode(Data);
}
