namespace Qcow2;

/// <summary>The <c>qemu-img create -o</c> options that <see cref="Qcow2Image.Create"/> supports.</summary>
public sealed class Qcow2CreateOptions
{
    /// <summary>The cluster size in bytes: a power of two from 512 to 2 MiB (default 65536).</summary>
    public int ClusterSize { get; init; } = 65536;

    /// <summary>The format version: 3 (compat 1.1, the default) or 2 (compat 0.10).</summary>
    public int Version { get; init; } = 3;

    /// <summary>The refcount width in bits: a power of two from 1 to 64 (default 16; v2 allows only 16).</summary>
    public int RefcountBits { get; init; } = 16;

    /// <summary>Set the lazy refcounts compatible feature (v3 only).</summary>
    public bool LazyRefcounts { get; init; }

    /// <summary>The backing file name to record; the file is not opened.</summary>
    public string? BackingFile { get; init; }

    /// <summary>The backing file's format to record (at most 15 bytes), e.g. <c>qcow2</c> or <c>raw</c>.</summary>
    public string? BackingFormat { get; init; }

    /// <summary>Use extended L2 entries with subclusters (v3, cluster size at least 16 KiB).</summary>
    public bool ExtendedL2 { get; init; }

    /// <summary>The compression type; <see cref="Qcow2CompressionType.Zstd"/> needs v3.</summary>
    public Qcow2CompressionType CompressionType { get; init; } = Qcow2CompressionType.Zlib;
}
