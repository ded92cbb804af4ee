using BinaryFormat;
using System.Text;

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
    private protected static byte[] Encode<T>(T payload) where T : IBinaryFormat<T>
    {
        var data = new byte[T.Size];
        payload.Write(data);
        return data;
    }
}

/// <summary>The backing file's format name (magic 0xE2792ACA).</summary>
public sealed class BackingFormatExtension : Qcow2HeaderExtension
{
    internal const uint MagicValue = 0xE2792ACA;

    internal BackingFormatExtension(string format) : base(MagicValue) => Format = format;

    /// <summary>The format name, e.g. <c>raw</c> or <c>qcow2</c>.</summary>
    public string Format { get; }

    internal override byte[] EncodeData() => Encoding.UTF8.GetBytes(Format);
}

/// <summary>The feature name table (magic 0x6803F857). QEMU regenerates it on every header rewrite.</summary>
public sealed class FeatureNameTableExtension : Qcow2HeaderExtension
{
    internal const uint MagicValue = 0x6803F857;

    internal FeatureNameTableExtension(IReadOnlyList<Qcow2FeatureName> features) : base(MagicValue) => Features = features;

    /// <summary>The entries in file order.</summary>
    public IReadOnlyList<Qcow2FeatureName> Features { get; }

    internal static FeatureNameTableExtension Decode(ReadOnlySpan<byte> data)
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

/// <summary>The bitmaps extension (magic 0x23852875): where the bitmap directory is.</summary>
public sealed class BitmapsExtension : Qcow2HeaderExtension
{
    internal const uint MagicValue = 0x23852875;

    internal BitmapsExtension(BitmapsExtensionData data) : base(MagicValue) => Data = data;

    internal BitmapsExtensionData Data { get; }

    /// <summary>The number of bitmaps in the directory.</summary>
    public int BitmapCount => (int)Data.NbBitmaps;

    /// <summary>The directory's size in bytes.</summary>
    public long DirectorySize => (long)Data.DirectorySize;

    /// <summary>The directory's file offset.</summary>
    public long DirectoryOffset => (long)Data.DirectoryOffset;

    internal override byte[] EncodeData() => Encode(Data);
}

/// <summary>The full disk encryption header pointer (magic 0x0537BE77): where the LUKS header is.</summary>
public sealed class FullDiskEncryptionExtension : Qcow2HeaderExtension
{
    internal const uint MagicValue = 0x0537BE77;

    internal FullDiskEncryptionExtension(FullDiskEncryptionExtensionData data) : base(MagicValue) => Data = data;

    internal FullDiskEncryptionExtensionData Data { get; }

    /// <summary>The LUKS header's file offset (cluster-aligned).</summary>
    public long Offset => (long)Data.Offset;

    /// <summary>The LUKS header's length in bytes.</summary>
    public long Length => (long)Data.Length;

    internal override byte[] EncodeData() => Encode(Data);
}

/// <summary>The external data file name (magic 0x44415441, "DATA"). The library never opens that file.</summary>
public sealed class ExternalDataFileExtension : Qcow2HeaderExtension
{
    internal const uint MagicValue = 0x44415441;

    internal ExternalDataFileExtension(string fileName) : base(MagicValue) => FileName = fileName;

    /// <summary>The data file name as stored.</summary>
    public string FileName { get; }

    internal override byte[] EncodeData() => Encoding.UTF8.GetBytes(FileName);
}

/// <summary>An extension type the library does not know; it is written back byte for byte.</summary>
public sealed class UnknownHeaderExtension : Qcow2HeaderExtension
{
    private readonly byte[] data;

    internal UnknownHeaderExtension(uint magic, byte[] data) : base(magic) => this.data = data;

    /// <summary>The data without padding.</summary>
    public ReadOnlyMemory<byte> Data => data;

    internal override byte[] EncodeData() => data;
}

/// <summary>One extension frame as found in cluster 0, before its type is interpreted.</summary>
internal readonly record struct RawHeaderExtension(uint Magic, long Offset, byte[] Data);

/// <summary>Reads and writes the extension area of cluster 0 (spec §2.1).</summary>
internal static class HeaderExtensionArea
{
    internal const uint EndMagic = 0;

    /// <summary>
    /// Splits [start, end) of cluster 0 into frames the way <c>qcow2_read_extensions</c> walks it. A framing error does
    /// not throw here: it is returned so that the caller can raise it after the frames before it, in QEMU's order.
    /// </summary>
    public static List<RawHeaderExtension> Split(ReadOnlySpan<byte> cluster0, long start, long end, out Qcow2FormatException? framingError)
    {
        var result = new List<RawHeaderExtension>();
        framingError = null;
        var offset = start;
        while (offset < end)
        {
            // The frame and the length are checked before the magic, so garbage after an END marker still fails.
            if (end - offset < HeaderExtensionHeader.Size)
            {
                framingError = Qcow2FormatException.ForField("Header extension too large", "HeaderExtensionHeader", offset,
                    offset, $"is too close to the end of the extension area at {end} for an 8-byte extension header");
                return result;
            }
            var header = HeaderExtensionHeader.ReadUnchecked(cluster0[(int)offset..]);
            offset += HeaderExtensionHeader.Size;
            if (header.Length > end - offset)
            {
                framingError = Qcow2FormatException.ForField("Header extension too large", "HeaderExtensionHeader.Length", offset - 4,
                    header.Length, $"bytes do not fit between {offset} and the end of the extension area at {end}");
                return result;
            }
            if (header.Magic == EndMagic)
                return result;
            result.Add(new(header.Magic, offset - HeaderExtensionHeader.Size, cluster0.Slice((int)offset, (int)header.Length).ToArray()));
            offset += Align.Up8(header.Length);
        }
        return result;
    }

    /// <summary>Appends one padded extension at <paramref name="offset"/>; false when it does not fit before <paramref name="end"/>.</summary>
    public static bool TryAppend(Span<byte> cluster0, ref int offset, int end, uint magic, ReadOnlySpan<byte> data)
    {
        var total = HeaderExtensionHeader.Size + Align.Up8(data.Length);
        if (end - offset < total)
            return false;
        new HeaderExtensionHeader { Magic = magic, Length = (uint)data.Length }.Write(cluster0[offset..]);
        data.CopyTo(cluster0[(offset + HeaderExtensionHeader.Size)..]);
        offset += (int)total;
        return true;
    }

    /// <summary>QEMU's "Unsupported qcow2 feature(s)" text: names from the table first, then the remaining unknown bits in hex.</summary>
    public static string DescribeUnsupported(IReadOnlyList<Qcow2FeatureName>? table, ulong unknown)
    {
        var parts = new List<string>();
        foreach (var feature in table ?? [])
        {
            if (feature.Name.Length == 0)
                break;
            if (feature.Type == Qcow2FeatureType.Incompatible && feature.Bit < 64 && (unknown & (1UL << feature.Bit)) != 0)
            {
                parts.Add(feature.Name);
                unknown &= ~(1UL << feature.Bit);
            }
        }
        if (unknown != 0)
            parts.Add("Unknown incompatible feature: " + unknown.ToString("x", System.Globalization.CultureInfo.InvariantCulture));
        return "Unsupported qcow2 feature(s): " + string.Join(", ", parts);
    }

    public static string DecodeString(byte[] data) => Encoding.UTF8.GetString(data);
}
