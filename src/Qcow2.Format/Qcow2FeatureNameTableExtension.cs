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

    internal static Qcow2FeatureNameTableExtension Decode(ReadOnlySpan<byte> data)
    {
        var features = new List<Qcow2FeatureName>(data.Length / FeatureNameTableEntry.Size);
        for (var at = 0; at + FeatureNameTableEntry.Size <= data.Length; at += FeatureNameTableEntry.Size)
        {
            var entry = FeatureNameTableEntry.ReadUnchecked(data[at..]);
            var name = entry.Name.AsSpan();
            var nul = name.IndexOf((byte)0);
            features.Add(new((Qcow2FeatureType)entry.Type, entry.Bit, Encoding.UTF8.GetString(nul < 0 ? name : name[..nul])));
        }
        return new(features);
    }

    internal override byte[] EncodeData()
    {
        var data = new byte[Features.Count * FeatureNameTableEntry.Size];
        for (var i = 0; i < Features.Count; i++)
        {
            var name = new byte[FeatureNameTableEntry.NameLength];
            var text = Encoding.UTF8.GetBytes(Features[i].Name);
            text.AsSpan(0, Math.Min(name.Length, text.Length)).CopyTo(name);
            new FeatureNameTableEntry { Type = (byte)Features[i].Type, Bit = (byte)Features[i].Bit, Name = name }
                .Write(data.AsSpan(i * FeatureNameTableEntry.Size));
        }
        return data;
    }
}
