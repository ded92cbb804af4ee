using System.Buffers;

namespace Qcow2;

/// <summary>
/// <c>qemu-img compare</c>: walks the two disks' block status side by side, skips ranges both know to be zeros, reads and
/// compares the rest in large chunks (reading ahead on two threads), then checks that the larger disk's extra part reads as zeros.
/// </summary>
internal sealed class DiskComparer(Qcow2VirtualDisk first, Qcow2VirtualDisk second, IProgress<double>? progress, CancellationToken cancellationToken)
{
    private const int ChunkSize = 2 << 20;

    // Chunks read ahead of the comparison, per disk.
    private const int ReadAheadDepth = 3;

    // Chunks planned at a time (1 GiB), so that memory stays bounded however large the disks are.
    private const int BatchChunks = 512;

    public Qcow2CompareResult Run(bool strict)
    {
        var sizesDiffer = first.Length != second.Length;
        if (strict && sizesDiffer)
            return new Qcow2CompareResult(Qcow2CompareOutcome.SizeMismatch, null, true);
        var common = Math.Min(first.Length, second.Length);
        var total = Math.Max(first.Length, second.Length);
        foreach (var (chunks, allocationMismatch) in Plan(common, strict))
        {
            if (FirstDifference(chunks, total) is { } at)
                return new Qcow2CompareResult(Qcow2CompareOutcome.ContentMismatch, at, sizesDiffer);
            if (allocationMismatch is { } where)
                return new Qcow2CompareResult(Qcow2CompareOutcome.AllocationMismatch, where, sizesDiffer);
        }
        if (sizesDiffer)
        {
            var larger = first.Length > second.Length ? first : second;
            var buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
            try
            {
                foreach (var run in BlockStatus.Of(larger, common, total - common))
                {
                    if ((run.Flags & BlockStatus.Zero) == 0 && FirstNonZero(larger, run.Start, run.End, buffer) is { } nonZero)
                        return new Qcow2CompareResult(Qcow2CompareOutcome.ContentMismatch, nonZero, true);
                    progress?.Report((double)run.End / total);
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
        return new Qcow2CompareResult(Qcow2CompareOutcome.Identical, null, sizesDiffer);
    }

    /// <summary>
    /// Walks the two disks' block status side by side over the common part: the chunks whose bytes must be compared (ranges
    /// both know to be zeros are skipped), up to the first range whose allocation differs when <paramref name="strict"/>; in
    /// batches of at most <see cref="BatchChunks"/> chunks, the last one carrying that range's offset.
    /// </summary>
    private IEnumerable<(List<(long Start, int Length)> Chunks, long? AllocationMismatch)> Plan(long common, bool strict)
    {
        var chunks = new List<(long, int)>();
        using var runs1 = BlockStatus.Of(first, 0, common).GetEnumerator();
        using var runs2 = BlockStatus.Of(second, 0, common).GetEnumerator();
        runs1.MoveNext();
        runs2.MoveNext();
        for (var offset = 0L; offset < common;)
        {
            while (runs1.Current.End <= offset)
                runs1.MoveNext();
            while (runs2.Current.End <= offset)
                runs2.MoveNext();
            var (a, b) = (runs1.Current, runs2.Current);
            var end = Math.Min(a.End, b.End);
            if (strict && a.Flags != b.Flags)
            {
                yield return (chunks, offset);
                yield break;
            }
            if ((a.Flags & b.Flags & BlockStatus.Zero) == 0)
            {
                for (var at = offset; at < end; at += ChunkSize)
                {
                    chunks.Add((at, (int)Math.Min(ChunkSize, end - at)));
                    if (chunks.Count == BatchChunks)
                    {
                        yield return (chunks, null);
                        chunks = [];
                    }
                }
            }
            offset = end;
        }
        yield return (chunks, null);
    }

    /// <summary>
    /// Reads the chunks of both disks, each on its own thread a few chunks ahead (the two disks are often two files), and
    /// returns the first guest offset where they differ.
    /// </summary>
    private long? FirstDifference(List<(long Start, int Length)> chunks, long total)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var chunks1 = Read(first, chunks, stop.Token).GetEnumerator();
        using var chunks2 = Read(second, chunks, stop.Token).GetEnumerator();
        try
        {
            while (chunks1.MoveNext() && chunks2.MoveNext())
            {
                var (a, b) = (chunks1.Current, chunks2.Current);
                var same = a.Data.CommonPrefixLength(b.Data);
                a.Release();
                b.Release();
                if (same < a.Length)
                    return a.Start + same;
                progress?.Report((double)(a.Start + a.Length) / total);
            }
            return null;
        }
        finally
        {
            // Stops both readers at once, rather than one after the other as the enumerators are disposed.
            stop.Cancel();
        }
    }

    private static IEnumerable<GuestChunk> Read(Qcow2VirtualDisk disk, List<(long Start, int Length)> chunks, CancellationToken cancellationToken) =>
        ReadAhead.Run(chunks.Select(c => new GuestChunk(c.Start, c.Length)), chunk =>
        {
            cancellationToken.ThrowIfCancellationRequested();
            chunk.ReadFrom(disk);
        }, chunk => chunk.Release(), ReadAheadDepth, cancellationToken);

    private long? FirstNonZero(Qcow2VirtualDisk disk, long offset, long end, byte[] buffer)
    {
        while (offset < end)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var span = buffer.AsSpan(0, (int)Math.Min(ChunkSize, end - offset));
            disk.Read(offset, span);
            var index = span.IndexOfAnyExcept((byte)0);
            if (index >= 0)
                return offset + index;
            offset += span.Length;
        }
        return null;
    }
}
