namespace Qcow2;

/// <summary>How <see cref="Qcow2Converter.Copy"/> copies one disk onto another (the options of <c>qemu-img convert</c>).</summary>
public sealed class Qcow2CopyOptions
{
    /// <summary>
    /// A run of at least this many zero bytes is not written (<c>-S</c>; 4 KiB by default): the target stays sparse. A qcow2
    /// target skips only whole zero clusters. 0 writes every byte the source has allocated.
    /// </summary>
    public long SparseSize { get; init; } = 4096;

    /// <summary>
    /// Write only what differs from what the target reads already (<c>convert -B</c>: the target's backing file holds the
    /// rest). Each block is read from the target first.
    /// </summary>
    public bool OnlyDifferences { get; init; }

    /// <summary>
    /// Store the qcow2 target's clusters compressed with its compression type (<c>-c</c>), compressing on every core; a cluster
    /// that does not get shorter is stored uncompressed, as QEMU does. Needs zlib (libz.so.1) for zlib images.
    /// </summary>
    public bool Compress { get; init; }

    /// <summary>Copy the persistent dirty bitmaps of a qcow2 source into the qcow2 target, after the data (<c>--bitmaps</c>).</summary>
    public bool CopyBitmaps { get; init; }

    /// <summary>Reports the fraction done, from 0 to 1.</summary>
    public IProgress<double>? Progress { get; init; }

    /// <summary>Stops the copy between blocks; what was written stays written.</summary>
    public CancellationToken CancellationToken { get; init; }

    /// <summary>
    /// Make the target durable when the copy is complete (<c>fsync</c> of a raw file, <see cref="Qcow2Image.Flush"/> of an image);
    /// true by default. False is <c>qemu-img convert</c>'s default (<c>-t unsafe</c>): the data stays in the page cache, which a
    /// process crash does not lose. Open a qcow2 target with <see cref="Qcow2OpenOptions.SkipFlushes"/> as well so that none
    /// of its writes waits for the disk.
    /// </summary>
    public bool FlushTarget { get; init; } = true;
}
