using BinaryFormat;

namespace Qcow2;

/// <summary>The full disk encryption header pointer (magic 0x0537BE77): where the LUKS header is.</summary>
public sealed class Qcow2FullDiskEncryptionExtension : Qcow2HeaderExtension
{
    internal const uint MagicValue = 0x0537BE77;

    internal Qcow2FullDiskEncryptionExtension(FullDiskEncryptionExtensionData data) : base(MagicValue) => Data = data;

    internal FullDiskEncryptionExtensionData Data { get; }

    /// <summary>The LUKS header's file offset (cluster-aligned).</summary>
    public long Offset => (long)Data.Offset;

    /// <summary>The LUKS header's length in bytes.</summary>
    public long Length => (long)Data.Length;

    internal override byte[] EncodeData() => Encode(Data);
}
