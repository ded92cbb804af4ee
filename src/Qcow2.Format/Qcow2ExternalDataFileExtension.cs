using BinaryFormat;
using System.Text;

namespace Qcow2;

/// <summary>The external data file name (magic 0x44415441, "DATA"). The library never opens that file.</summary>
public sealed class Qcow2ExternalDataFileExtension : Qcow2HeaderExtension
{
    internal const uint MagicValue = 0x44415441;

    internal Qcow2ExternalDataFileExtension(string fileName) : base(MagicValue) => FileName = fileName;

    /// <summary>The data file name as stored.</summary>
    public string FileName { get; }

    internal override byte[] EncodeData() => Encoding.UTF8.GetBytes(FileName);
}
