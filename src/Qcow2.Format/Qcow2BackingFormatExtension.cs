using BinaryFormat;
using System.Text;

namespace Qcow2;

/// <summary>The backing file's format name (magic 0xE2792ACA).</summary>
public sealed class Qcow2BackingFormatExtension : Qcow2HeaderExtension
{
    internal const uint MagicValue = 0xE2792ACA;

    internal Qcow2BackingFormatExtension(string format) : base(MagicValue) => Format = format;

    /// <summary>The format name, e.g. <c>raw</c> or <c>qcow2</c>.</summary>
    public string Format { get; }

    internal override byte[] EncodeData() => Encoding.UTF8.GetBytes(Format);
}
