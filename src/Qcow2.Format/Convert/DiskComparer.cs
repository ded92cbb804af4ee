using System.Buffers;

namespace Qcow2;

/// <summary>
/// <c>qemu-img compare</c>: walks the two disks' block status side by side, skips ranges both know to be zeros, reads and
/// compares the rest in large chunks, then checks that the larger disk's extra part reads as zeros.
/// </summary>
internal sealed class DiskComparer(Qcow2VirtualDisk first, Qcow2VirtualDisk second, IProgress<double>? progress, CancellationToken cancellationToken)
{
    private const int ChunkSize = 4 << 20;

    public Qcow2CompareResult Run(bool strict)
    {
        var sizesDiffer = first.Length != second.Length;
        if (strict && sizesDiffer)
            return new Qcow2CompareResult(Qcow2CompareOutcome.SizeMismatch, null, true);
        var common = Math.Min(first.Length, second.Length);
        var total = Math.Max(first.Length, second.Length);
        var buffer1 = ArrayPool<byte>.Shared.Rent(ChunkSize);
        var buffer2 = ArrayPool<byte>.Shared.Rent(ChunkSize);
        try
        {
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
                    return new Qcow2CompareResult(Qcow2CompareOutcome.AllocationMismatch, offset, sizesDiffer);
                if ((a.Flags & b.Flags & BlockStatus.Zero) == 0 && FirstDifference(offset, end, buffer1, buffer2) is { } at)
                    return new Qcow2CompareResult(Qcow2CompareOutcome.ContentMismatch, at, sizesDiffer);
                offset = end;
                progress?.Report((double)offset / total);
            }
            if (sizesDiffer)
            {
                var larger = first.Length > second.Length ? first : second;
                foreach (var run in BlockStatus.Of(larger, common, total - common))
                {
                    if ((run.Flags & BlockStatus.Zero) == 0 && FirstNonZero(larger, run.Start, run.End, buffer1) is { } at)
                        return new Qcow2CompareResult(Qcow2CompareOutcome.ContentMismatch, at, true);
                    progress?.Report((double)run.End / total);
                }
            }
            return new Qcow2CompareResult(Qcow2CompareOutcome.Identical, null, sizesDiffer);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer1);
            ArrayPool<byte>.Shared.Return(buffer2);
        }
    }

    private long? FirstDifference(long offset, long end, byte[] buffer1, byte[] buffer2)
    {
        while (offset < end)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var length = (int)Math.Min(ChunkSize, end - offset);
            var span1 = buffer1.AsSpan(0, length);
            var span2 = buffer2.AsSpan(0, length);
            // The two disks are often two files: read them at the same time.
            var at = offset;
            Parallel.Invoke(() => first.Read(at, buffer1.AsSpan(0, length)), () => second.Read(at, buffer2.AsSpan(0, length)));
            var same = span1.CommonPrefixLength(span2);
            if (same < length)
                return offset + same;
            offset += length;
        }
        return null;
    }

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
