using BinaryFormat;
using System.Text;

namespace Qcow2;

/// <summary>Reads and writes the extension area of cluster 0 (spec §2.1).</summary>
internal static class HeaderExtensionArea
{
    /// <summary>
    /// Splits [start, end) of cluster 0 into frames the way <c>qcow2_read_extensions</c> walks it: each frame's length is
    /// checked before its magic, so garbage after an END marker still fails. A framing error does not throw here: it is
    /// returned so that the caller can raise it after the frames before it, in QEMU's order.
    /// </summary>
    public static List<RawHeaderExtension> Split(ReadOnlySpan<byte> cluster0, long start, long end, out Qcow2FormatException? framingError)
    {
        var result = new List<RawHeaderExtension>();
        framingError = null;
        var offset = (int)start;
        while (offset < end)
        {
            var area = cluster0[offset..(int)end];
            if (!HeaderExtensionFrame.TryRead(area, offset, out var frame, out var consumed, out var error)
                && (error.MemberPath != nameof(HeaderExtensionFrame.Padding) || !TryReadWithoutPadding(area, offset, out frame, out consumed)))
            {
                framingError = Qcow2FormatException.FromRule("Header extension too large", error);
                return result;
            }
            if (frame.Magic == HeaderExtensionFrame.EndMagic)
                return result;
            result.Add(new(frame.Magic, offset, frame.Data));
            offset += consumed;
        }
        return result;
    }

    /// <summary>
    /// QEMU never reads the padding, so a last frame whose data ends just before the end of the area (a backing file
    /// name not 8-aligned after it) is accepted: read it from a copy where the padding is zeros.
    /// </summary>
    private static bool TryReadWithoutPadding(ReadOnlySpan<byte> area, long position, out HeaderExtensionFrame frame, out int consumed)
    {
        var padded = new byte[Align.Up8(area.Length)];
        area.CopyTo(padded);
        return HeaderExtensionFrame.TryRead(padded, position, out frame, out consumed, out _);
    }

    /// <summary>Writes <paramref name="frame"/> at <paramref name="offset"/> and moves past it; false when it does not fit in <paramref name="cluster0"/>.</summary>
    public static bool TryAppend(Span<byte> cluster0, ref int offset, HeaderExtensionFrame frame)
    {
        var size = frame.GetEncodedSize();
        if (cluster0.Length - offset < size)
            return false;
        frame.Write(cluster0[offset..]);
        offset += size;
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
