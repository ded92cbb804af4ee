using BinaryFormat;
using System.Text;

namespace Qcow2;

/// <summary>The feature name table (magic 0x6803F857). QEMU regenerates it on every header rewrite.</summary>
public sealed class Qcow2FeatureNameTableExtension : Qcow2HeaderExtension
{
    internal const uint MagicValue = 0x6803F857;

    internal Qcow2FeatureNameTableExtension(IReadOnlyList<Qcow2FeatureName> features) : base(MagicValue) => Features = features;

    /// <summary>The entries in file order.</summary>
    public IReadOnlyList<Qcow2FeatureName> Features { get; }

    /// <summary>Reads the whole entries of <paramref name="data"/>; QEMU ignores the bytes of a last partial one too.</summary>
    internal static Qcow2FeatureNameTableExtension Decode(ReadOnlySpan<byte> data)
    {
        var table = FeatureNameTable.Read(data[..(data.Length - data.Length % FeatureNameTableEntry.Size)]);
        return new([.. table.Entries.Select(entry => new Qcow2FeatureName((Qcow2FeatureType)entry.Type, entry.Bit, DecodeName(entry.Name)))]);
    }

    private static string DecodeName(byte[] name)
    {
        var nul = name.AsSpan().IndexOf((byte)0);
        return Encoding.UTF8.GetString(name, 0, nul < 0 ? name.Length : nul);
    }

    internal override byte[] EncodeData() => Encode(new FeatureNameTable { Entries = [.. Features.Select(EncodeEntry)] });

    /// <summary>A name longer than the 46-byte field is cut.</summary>
    private static FeatureNameTableEntry EncodeEntry(Qcow2FeatureName feature)
    {
        var name = new byte[FeatureNameTableEntry.NameLength];
        var text = Encoding.UTF8.GetBytes(feature.Name);
        text.AsSpan(0, Math.Min(name.Length, text.Length)).CopyTo(name);
        return new FeatureNameTableEntry { Type = (byte)feature.Type, Bit = (byte)feature.Bit, Name = name };
    }
}
