using BinaryFormat;
using System.Text;

namespace Qcow2;

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
