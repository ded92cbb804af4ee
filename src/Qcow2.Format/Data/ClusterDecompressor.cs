using System.Buffers;
using System.Globalization;
using System.IO.Compression;
using ZstdSharp;
using ZstdSharp.Unsafe;

namespace Qcow2;

/// <summary>
/// Inflates one compressed cluster as QEMU does (<c>qcow2_zlib_decompress</c>, <c>qcow2_zstd_decompress</c>): the output must
/// fill the cluster exactly; input after that (the rest of the last 512-byte sector) is ignored. Output is never more than
/// one cluster whatever the stream claims, and zstd's window is capped at the cluster size, so a hostile stream costs no
/// more memory than an honest one.
/// </summary>
internal static class ClusterDecompressor
{
    public static void Decompress(Qcow2CompressionType type, IImageStorage storage, L2Entry entry, int clusterBits, Span<byte> cluster)
    {
        var (offset, length) = entry.CompressedRange(clusterBits);
        // At most two clusters (the sector count field's width), whatever the entry says.
        var input = ArrayPool<byte>.Shared.Rent((int)length);
        try
        {
            storage.Read(offset, input.AsSpan(0, (int)length));
            using var source = new MemoryStream(input, 0, (int)length, writable: false);
            int produced;
            try
            {
                using Stream inflater = type == Qcow2CompressionType.Zstd
                    ? ZstdStream(source, clusterBits)
                    : new DeflateStream(source, CompressionMode.Decompress);
                produced = inflater.ReadAtLeast(cluster, cluster.Length, throwOnEndOfStream: false);
            }
            catch (Exception e) when (e is InvalidDataException or ZstdException or IOException)
            {
                throw Failed(entry, offset, e.Message);
            }
            if (produced != cluster.Length)
                throw Failed(entry, offset, $"the stream ends after {produced} of {cluster.Length} bytes");
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(input);
        }
    }

    private static DecompressionStream ZstdStream(Stream source, int clusterBits)
    {
        var stream = new DecompressionStream(source, checkEndOfStream: false, leaveOpen: true);
        stream.SetParameter(ZSTD_dParameter.ZSTD_d_windowLogMax, Math.Max(clusterBits, 10));
        return stream;
    }

    private static Qcow2FormatException Failed(L2Entry entry, long offset, string why) =>
        new(string.Create(CultureInfo.InvariantCulture,
            $"Input/output error (the compressed cluster at host offset {offset} does not decompress to one cluster: {why})"),
            "L2Entry", "0x" + entry.Value.ToString("X16", CultureInfo.InvariantCulture));
}
