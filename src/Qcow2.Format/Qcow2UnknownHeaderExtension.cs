using BinaryFormat;

namespace Qcow2;

/// <summary>An extension type the library does not know; it is written back byte for byte.</summary>
public sealed class Qcow2UnknownHeaderExtension : Qcow2HeaderExtension
{
    private readonly byte[] data;

    internal Qcow2UnknownHeaderExtension(uint magic, byte[] data) : base(magic) => this.data = data;

    /// <summary>The data without padding.</summary>
    public ReadOnlyMemory<byte> Data => data;

    internal override byte[] EncodeData() => data;
}
