using System.Buffers;

namespace Qcow2;

/// <summary>
/// The data half of a safe rebase (QEMU's <c>img_rebase</c>): every (sub)cluster the overlay does not hold itself and where the
/// old backing chain and the new backing disk read differently gets the old view written into the overlay; past the end of
/// the old backing file that view is zeros, written as zero clusters, as QEMU does.
/// </summary>
internal sealed class BackingRebase(Qcow2Image overlay, Qcow2VirtualDisk? newBacking, IProgress<double>? progress, CancellationToken cancellationToken)
{
    private const int ChunkSize = 2 << 20;

    public void CopyDifferences()
    {
        var size = overlay.VirtualSize;
        // Collected before anything is written: the writes change the allocation being walked.
        var ranges = new List<Qcow2GuestRange>();
        foreach (var extent in overlay.GetAllocation(0, size))
        {
            if (extent.Depth == 0 && extent.Kind != Qcow2ExtentKind.Unallocated)
                continue;
            if (ranges.Count > 0 && ranges[^1].End == extent.Start)
                ranges[^1] = ranges[^1] with { Length = ranges[^1].Length + extent.Length };
            else
                ranges.Add(new Qcow2GuestRange(extent.Start, extent.Length));
        }
        var total = Math.Max(1, ranges.Sum(r => r.Length));
        var done = 0L;
        var oldBuffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
        var newBuffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
        try
        {
            foreach (var range in ranges)
            {
                for (var offset = range.Start; offset < range.End;)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var length = (int)Math.Min(ChunkSize - (offset % ChunkSize), range.End - offset);
                    CopyChunk(offset, oldBuffer.AsSpan(0, length), newBuffer.AsSpan(0, length));
                    offset += length;
                    done += length;
                    progress?.Report((double)done / total);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(oldBuffer);
            ArrayPool<byte>.Shared.Return(newBuffer);
        }
    }

    private void CopyChunk(long offset, Span<byte> old, Span<byte> current)
    {
        overlay.Read(offset, old);
        var inNew = newBacking is null ? 0 : (int)Math.Clamp(newBacking.Length - offset, 0, current.Length);
        if (inNew > 0)
            newBacking!.Read(offset, current[..inNew]);
        current[inNew..].Clear();

        var oldBackingSize = overlay.BackingImage?.VirtualSize ?? 0;
        var unit = overlay.ClusterSize >> (overlay.ExtendedL2 ? 5 : 0);
        // Runs of differing units are written with one call each; a run does not cross the old backing file's end, since
        // what lies past it is zeros to be written as zero clusters.
        var runStart = -1;
        for (var at = 0; at <= old.Length;)
        {
            var unitEnd = at == old.Length ? at : (int)Math.Min(old.Length, ((offset + at) / unit + 1) * unit - offset);
            var differs = at < old.Length && !old[at..unitEnd].SequenceEqual(current[at..unitEnd]);
            var crossesEnd = runStart >= 0 && offset + runStart < oldBackingSize && offset + at >= oldBackingSize;
            if (runStart >= 0 && (!differs || crossesEnd))
            {
                WriteOld(offset + runStart, old[runStart..at], oldBackingSize);
                runStart = -1;
            }
            if (differs && runStart < 0)
                runStart = at;
            if (at == old.Length)
                break;
            at = unitEnd;
        }
    }

    private void WriteOld(long offset, ReadOnlySpan<byte> data, long oldBackingSize)
    {
        if (offset >= oldBackingSize)
            overlay.WriteZeroes(offset, data.Length);
        else
            overlay.Write(offset, data);
    }
}
