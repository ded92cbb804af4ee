using BinaryFormat;

namespace Qcow2;

/// <summary>A header extension in cluster 0 (spec §2). The typed subclasses are the kinds QEMU 7.2 knows.</summary>
public abstract class Qcow2HeaderExtension
{
    private protected Qcow2HeaderExtension(uint magic) => Magic = magic;

    /// <summary>The extension type (its 32-bit magic).</summary>
    public uint Magic { get; }

    /// <summary>The extension's data without padding, as written to disk.</summary>
    internal abstract byte[] EncodeData();

    /// <summary>The bytes of a declared extension payload.</summary>
    private protected static byte[] Encode<T>(T payload) where T : IBinaryLayout<T>
    {
        var data = new byte[payload.GetEncodedSize()];
        payload.Write(data);
        return data;
    }
}
