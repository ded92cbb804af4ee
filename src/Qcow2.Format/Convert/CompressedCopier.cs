using System.Buffers;

namespace Qcow2;

/// <summary>
/// <c>qemu-img convert -c</c>: every cluster of the source that holds data is compressed with the target's compression type
/// and stored compressed, or uncompressed when compression does not make it shorter, as QEMU does; clusters of zeros are not
/// written (the target reads zeros there already, or gets zeros). Clusters are compressed on every core and written in order.
/// </summary>
internal sealed class CompressedCopier
{
    private const int ChunkClusters = 64;

    private readonly Qcow2VirtualDisk source;
    private readonly Qcow2VirtualDisk target;
    private readonly Qcow2Image image;
    private readonly Qcow2CopyOptions options;
    private readonly int clusterSize;

    public CompressedCopier(Qcow2VirtualDisk source, Qcow2VirtualDisk target, Qcow2CopyOptions options)
    {
        this.source = source;
        this.target = target;
        this.options = options;
        image = target.Image!;
        clusterSize = image.ClusterSize;
    }

    public void Copy()
    {
        var length = source.Length;
        var chunk = ChunkClusters * clusterSize;
        var buffer = ArrayPool<byte>.Shared.Rent(chunk);
        var compressed = ArrayPool<byte>.Shared.Rent(chunk);
        var current = options.OnlyDifferences ? ArrayPool<byte>.Shared.Rent(chunk) : null;
        var sizes = new int[ChunkClusters];
        using var compressors = new ThreadLocal<ClusterCompressor>(() => new ClusterCompressor(image.CompressionType), trackAllValues: true);
        try
        {
            foreach (var (start, end) in DataSpans(length))
            {
                for (var offset = start; offset < end; offset += chunk)
                {
                    options.CancellationToken.ThrowIfCancellationRequested();
                    var count = (int)Math.Min(chunk, end - offset);
                    var clusters = (count + clusterSize - 1) / clusterSize;
                    source.Read(offset, buffer.AsSpan(0, count));
                    // The last cluster of the disk is compressed padded with zeros, as QEMU pads it.
                    buffer.AsSpan(count, clusters * clusterSize - count).Clear();
                    if (current is not null)
                        target.Read(offset, current.AsSpan(0, count));
                    Parallel.For(0, clusters, new ParallelOptions { CancellationToken = options.CancellationToken }, i =>
                    {
                        var cluster = buffer.AsSpan(i * clusterSize, clusterSize);
                        sizes[i] = !cluster.ContainsAnyExcept((byte)0) ? -2 : compressors.Value!.Compress(cluster, compressed.AsSpan(i * clusterSize, clusterSize));
                    });
                    for (var i = 0; i < clusters; i++)
                        Store(offset + (long)i * clusterSize, buffer.AsSpan(i * clusterSize, (int)Math.Min(clusterSize, count - (long)i * clusterSize)),
                            sizes[i], compressed.AsSpan(i * clusterSize), current is null ? default : current.AsSpan(i * clusterSize));
                    options.Progress?.Report((double)(offset + count) / Math.Max(1, length));
                }
            }
        }
        finally
        {
            foreach (var compressor in compressors.Values)
                compressor.Dispose();
            ArrayPool<byte>.Shared.Return(buffer);
            ArrayPool<byte>.Shared.Return(compressed);
            if (current is not null)
                ArrayPool<byte>.Shared.Return(current);
        }
        options.Progress?.Report(1);
    }

    private void Store(long offset, ReadOnlySpan<byte> data, int size, ReadOnlySpan<byte> compressed, ReadOnlySpan<byte> current)
    {
        if (current.Length > 0 && data.SequenceEqual(current[..data.Length]))
            return;
        if (size == -2)
        {
            if (!target.ReadsZero(offset, data.Length))
                target.WriteZeroes(offset, data.Length);
        }
        else if (size < 0 || !image.WriteCompressed(offset, compressed[..size]))
            target.Write(offset, data);
    }

    /// <summary>
    /// The cluster-aligned spans that hold data in the source (clamped to the disk), merged; with a backing file to differ from
    /// (<see cref="Qcow2CopyOptions.OnlyDifferences"/>), or a target that may hold data, every cluster is looked at.
    /// </summary>
    private List<(long Start, long End)> DataSpans(long length)
    {
        if (options.OnlyDifferences || !target.ReadsZero(0, length))
            return [(0, length)];
        var spans = new List<(long Start, long End)>();
        foreach (var extent in source.GetAllocation(0, length).Where(e => e.Kind == Qcow2ExtentKind.Data))
        {
            var start = extent.Start / clusterSize * clusterSize;
            var end = Math.Min(length, (extent.End + clusterSize - 1) / clusterSize * clusterSize);
            if (spans.Count > 0 && spans[^1].End >= start)
                spans[^1] = (spans[^1].Start, Math.Max(spans[^1].End, end));
            else
                spans.Add((start, end));
        }
        return spans;
    }
}
