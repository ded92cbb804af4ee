using System.Buffers;

namespace Qcow2;

/// <summary>
/// Reads cluster-sized tables (L2 tables, refcount blocks) listed in processing order, fetching each run of tables that
/// lie back to back in the file with one large read. Tables scattered through the file cost one read each, never more.
/// </summary>
internal sealed class ClusterRunReader : IDisposable
{
    private const int MaxRunBytes = 4 << 20;

    private readonly IImageStorage storage;
    private readonly int clusterSize;
    private readonly int maxRunClusters;
    private byte[] buffer;
    private long bufferStart = -1;
    private int bufferClusters;

    public ClusterRunReader(IImageStorage storage, int clusterSize)
    {
        this.storage = storage;
        this.clusterSize = clusterSize;
        maxRunClusters = Math.Max(1, MaxRunBytes / clusterSize);
        buffer = ArrayPool<byte>.Shared.Rent(maxRunClusters * clusterSize);
    }

    /// <summary>
    /// The cluster at <paramref name="offsets"/>[<paramref name="index"/>] (cluster-aligned, non-zero). Following entries
    /// that continue the run are read along with it. The span stays valid until the next call.
    /// </summary>
    public Span<byte> Get(ReadOnlySpan<ulong> offsets, int index)
    {
        var offset = (long)offsets[index];
        if (bufferStart >= 0 && offset >= bufferStart && offset < bufferStart + (long)bufferClusters * clusterSize)
            return buffer.AsSpan((int)(offset - bufferStart), clusterSize);

        var run = 1;
        while (run < maxRunClusters && index + run < offsets.Length && offsets[index + run] == (ulong)offset + (ulong)run * (ulong)clusterSize)
            run++;
        storage.Read(offset, buffer.AsSpan(0, run * clusterSize));
        bufferStart = offset;
        bufferClusters = run;
        return buffer.AsSpan(0, clusterSize);
    }

    /// <summary>Writes back a cluster returned by <see cref="Get"/> after it was changed in place.</summary>
    public void WriteBack(long offset)
    {
        storage.Write(offset, buffer.AsSpan((int)(offset - bufferStart), clusterSize));
    }

    public void Dispose()
    {
        ArrayPool<byte>.Shared.Return(buffer);
        buffer = [];
    }
}
