using System.Buffers;

namespace Qcow2;

/// <summary>
/// Copies ranges of guest data from one disk to another in large blocks, following the source's allocation: zeros the
/// target already reads are skipped, so the target stays sparse; with <see cref="Qcow2CopyOptions.OnlyDifferences"/> a block
/// equal to what the target reads is skipped too.
/// </summary>
internal sealed class DiskCopier
{
    private const int ChunkSize = 2 << 20;

    private readonly Qcow2VirtualDisk source;
    private readonly Qcow2VirtualDisk target;
    private readonly Qcow2CopyOptions options;
    private readonly int block;
    private readonly int chunk;
    private readonly bool unmapZeros;

    // unmapZeros: zeros free the target's whole host clusters (QEMU's commit job writes zeros that way).
    public DiskCopier(Qcow2VirtualDisk source, Qcow2VirtualDisk target, Qcow2CopyOptions options, bool unmapZeros = false)
    {
        this.source = source;
        this.target = target;
        this.options = options;
        this.unmapZeros = unmapZeros;
        // The unit of zero detection: a qcow2 target allocates whole clusters (subclusters with extended L2, whose unwritten
        // parts stay holes in the file), a raw one is sparse at -S granularity.
        var sparse = (int)Math.Clamp(options.SparseSize, 0, 1 << 30);
        var cluster = target.Image is { } image ? image.ClusterSize >> (image.ExtendedL2 ? 5 : 0) : 512;
        block = sparse == 0 ? 0 : Math.Max(cluster, (sparse + cluster - 1) / cluster * cluster);
        chunk = Math.Max(ChunkSize, block);
    }

    /// <summary>Copies the ranges (sorted, not overlapping) and reports progress over their total length.</summary>
    public void Copy(IReadOnlyCollection<Qcow2GuestRange> ranges)
    {
        var total = Math.Max(1, ranges.Sum(r => r.Length));
        var done = 0L;
        var buffer = ArrayPool<byte>.Shared.Rent(chunk);
        var current = options.OnlyDifferences ? ArrayPool<byte>.Shared.Rent(chunk) : null;
        try
        {
            foreach (var range in ranges)
            {
                foreach (var extent in source.GetAllocation(range.Start, range.Length))
                {
                    if (extent.Kind == Qcow2ExtentKind.Data)
                        CopyData(extent.Start, extent.End, buffer, current);
                    else
                        MakeZero(extent.Start, extent.Length);
                    done += extent.Length;
                    options.Progress?.Report((double)done / total);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            if (current is not null)
                ArrayPool<byte>.Shared.Return(current);
        }
    }

    private void CopyData(long start, long end, byte[] buffer, byte[]? current)
    {
        // Chunks aligned to the block, so that zero detection sees whole target clusters.
        var unit = Math.Max(block, 1);
        for (var offset = start; offset < end;)
        {
            options.CancellationToken.ThrowIfCancellationRequested();
            var chunkEnd = Math.Min(end, (offset / unit * unit) + chunk);
            var length = (int)(chunkEnd - offset);
            var data = buffer.AsSpan(0, length);
            source.Read(offset, data);
            if (current is not null)
                target.Read(offset, current.AsSpan(0, length));
            var pendingStart = -1;
            for (var at = 0; at < length;)
            {
                var blockEnd = block == 0 ? length : (int)Math.Min(length, ((offset + at) / block + 1) * block - offset);
                var part = data[at..blockEnd];
                var done = current is not null && part.SequenceEqual(current.AsSpan(at, part.Length));
                if (!done && block != 0 && !part.ContainsAnyExcept((byte)0))
                {
                    MakeZero(offset + at, part.Length);
                    done = true;
                }
                if (done)
                    Flush(data, offset, ref pendingStart, at);
                else if (pendingStart < 0)
                    pendingStart = at;
                at = blockEnd;
            }
            Flush(data, offset, ref pendingStart, length);
            offset = chunkEnd;
        }
    }

    private void Flush(Span<byte> data, long offset, ref int pendingStart, int end)
    {
        if (pendingStart < 0)
            return;
        target.Write(offset + pendingStart, data[pendingStart..end]);
        pendingStart = -1;
    }

    /// <summary>Makes the range read as zeros in the target unless it does already.</summary>
    private void MakeZero(long offset, long length)
    {
        if (!target.ReadsZero(offset, length))
            target.WriteZeroes(offset, length, unmapZeros);
    }
}
