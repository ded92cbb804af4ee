using System.Runtime.InteropServices;
using ZstdSharp;

namespace Qcow2;

/// <summary>
/// Compresses one cluster as QEMU 7.2 does (<c>qcow2_zlib_compress</c>, <c>qcow2_zstd_compress</c>): zlib as raw deflate with
/// QEMU's 4 KiB window (the window QEMU's reader accepts; .NET's deflate cannot be limited to it, so zlib itself is called),
/// zstd at its default level. The result must be shorter than the cluster, or the cluster is stored uncompressed. One
/// instance per thread.
/// </summary>
internal sealed unsafe partial class ClusterCompressor : IDisposable
{
    private const int ZDeflated = 8, ZDefaultCompression = -1, ZFinish = 4, ZStreamEnd = 1, ZOk = 0;
    private const int ZStreamSize = 112; // sizeof(z_stream) on 64-bit Linux

    private readonly Qcow2CompressionType type;
    private readonly Compressor? zstd;
    private readonly ZStream* zlib;

    public ClusterCompressor(Qcow2CompressionType type)
    {
        this.type = type;
        if (type == Qcow2CompressionType.Zstd)
        {
            zstd = new Compressor();
            return;
        }
        if (!OperatingSystem.IsLinux() || !Environment.Is64BitProcess)
            throw new PlatformNotSupportedException("Writing zlib-compressed clusters needs the system's zlib (Linux, 64-bit).");
        zlib = (ZStream*)NativeMemory.AllocZeroed(ZStreamSize);
        // QEMU: deflateInit2(Z_DEFAULT_COMPRESSION, Z_DEFLATED, -12 (raw, 4 KiB window), 9, Z_DEFAULT_STRATEGY).
        int result;
        try
        {
            result = DeflateInit2(zlib, ZDefaultCompression, ZDeflated, -12, 9, 0, "1.2.11", ZStreamSize);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            NativeMemory.Free(zlib);
            throw new PlatformNotSupportedException("Writing zlib-compressed clusters needs the system's zlib (libz.so.1).", e);
        }
        if (result != ZOk)
        {
            NativeMemory.Free(zlib);
            throw new InvalidOperationException($"zlib's deflateInit2 failed ({result}).");
        }
    }

    /// <summary>The compressed length written to <paramref name="output"/>, or -1 when it is not shorter than the cluster.</summary>
    public int Compress(ReadOnlySpan<byte> cluster, Span<byte> output)
    {
        // QEMU gives the compressor a buffer one byte shorter than the cluster.
        var limit = Math.Min(output.Length, cluster.Length - 1);
        if (zstd is not null)
            return zstd.TryWrap(cluster, output[..limit], out var written) ? written : -1;
        if (DeflateReset(zlib) != ZOk)
            throw new InvalidOperationException("zlib's deflateReset failed.");
        fixed (byte* input = cluster)
        fixed (byte* target = output)
        {
            zlib->NextIn = input;
            zlib->AvailIn = (uint)cluster.Length;
            zlib->NextOut = target;
            zlib->AvailOut = (uint)limit;
            var result = Deflate(zlib, ZFinish);
            var produced = limit - (int)zlib->AvailOut;
            zlib->NextIn = zlib->NextOut = null;
            return result == ZStreamEnd ? produced : -1;
        }
    }

    public void Dispose()
    {
        zstd?.Dispose();
        if (zlib is not null)
        {
            _ = DeflateEnd(zlib);
            NativeMemory.Free(zlib);
        }
    }

    /// <summary>The head of zlib's <c>z_stream</c> (LP64); the rest is zlib's own.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct ZStream
    {
        public byte* NextIn;
        public uint AvailIn;
        public nuint TotalIn;
        public byte* NextOut;
        public uint AvailOut;
    }

    [LibraryImport("libz.so.1", EntryPoint = "deflateInit2_", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int DeflateInit2(ZStream* stream, int level, int method, int windowBits, int memLevel, int strategy, string version, int streamSize);

    [LibraryImport("libz.so.1", EntryPoint = "deflateReset")]
    private static partial int DeflateReset(ZStream* stream);

    [LibraryImport("libz.so.1", EntryPoint = "deflate")]
    private static partial int Deflate(ZStream* stream, int flush);

    [LibraryImport("libz.so.1", EntryPoint = "deflateEnd")]
    private static partial int DeflateEnd(ZStream* stream);
}
