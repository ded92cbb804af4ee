namespace Qcow2;

/// <summary>QEMU 7.2's <c>qcow2_measure</c>: metadata for a fully allocated image plus the clusters the source has data in.</summary>
internal static class ImageMeasure
{
    public static Qcow2MeasureResult Qcow2(Qcow2VirtualDisk? source, long size, Qcow2CreateOptions options)
    {
        long cluster = options.ClusterSize;
        var l2EntrySize = options.ExtendedL2 ? 16 : 8;
        var virtualSize = Align.Up(source?.Length ?? Align.Up(size, 512), cluster);
        var l2Tables = Align.DivideRoundUp(virtualSize / cluster, cluster / l2EntrySize);
        if (l2Tables * 8 > Limits.MaxL1Bytes)
            throw new ArgumentException("The image size is too large (try using a larger cluster size)", nameof(size));

        long required = 0;
        if (source is not null && options.BackingFile is not null)
            required = virtualSize; // the new backing file may share nothing with the source
        else if (source is not null)
        {
            // One pass over the status runs; QEMU asks again at each offset it reaches, which reads the same runs, cut where a
            // data run made it skip ahead.
            long offset = 0;
            foreach (var status in BlockStatus.Of(source, 0, source.Length))
            {
                if (status.End <= offset)
                    continue;
                var start = Math.Max(status.Start, offset);
                offset = status.End;
                if ((status.Flags & BlockStatus.Zero) == 0 && (status.Flags & (BlockStatus.Data | BlockStatus.Allocated)) == (BlockStatus.Data | BlockStatus.Allocated))
                {
                    // QEMU counts from the start of the cluster and skips to its end.
                    offset = Align.Up(status.End, cluster);
                    required += start % cluster + (offset - start);
                }
            }
        }
        var fullyAllocated = PreallocatedSize(virtualSize, cluster, options.RefcountBits, l2EntrySize);
        long? bitmaps = options.Version >= 3 && source?.Image is { } image ? BitmapsSize(image, cluster) : null;
        return new Qcow2MeasureResult(fullyAllocated - virtualSize + required, fullyAllocated, bitmaps);
    }

    /// <summary><c>qcow2_calc_prealloc_size</c>: header, L2 and L1 tables, refcount structures and data for every cluster.</summary>
    private static long PreallocatedSize(long alignedSize, long cluster, int refcountBits, int l2EntrySize)
    {
        var meta = cluster;
        var l2Entries = Align.Up(alignedSize / cluster, cluster / l2EntrySize);
        meta += l2Entries * l2EntrySize;
        var l1Entries = Align.Up(l2Entries * l2EntrySize / cluster, cluster / 8);
        meta += l1Entries * 8;
        meta += RefcountMetadataSize((meta + alignedSize) / cluster, cluster, refcountBits);
        return meta + alignedSize;
    }

    /// <summary><c>qcow2_refcount_metadata_size</c> without the generous increase: blocks and table that count themselves.</summary>
    private static long RefcountMetadataSize(long clusters, long cluster, int refcountBits)
    {
        var perTableCluster = cluster / 8;
        var perBlock = cluster * 8 / refcountBits;
        long table = 0, blocks = 0, n = 0, last;
        do
        {
            last = n;
            blocks = Align.DivideRoundUp(clusters + table + blocks, perBlock);
            table = Align.DivideRoundUp(blocks, perTableCluster);
            n = clusters + blocks + table;
        }
        while (n != last);
        return (blocks + table) * cluster;
    }

    /// <summary>Every persistent bitmap as if fully allocated, its table, and the directory.</summary>
    private static long BitmapsSize(Qcow2Image image, long cluster)
    {
        long size = 0, directory = 0;
        foreach (var bitmap in image.Bitmaps)
        {
            var bits = Align.DivideRoundUp(image.VirtualSize, bitmap.Granularity);
            var clusters = Align.DivideRoundUp(Align.DivideRoundUp(bits, 8), cluster);
            size += clusters * cluster + Align.Up(clusters * 8, cluster);
            directory += Align.Up(24 + System.Text.Encoding.UTF8.GetByteCount(bitmap.Name), 8);
        }
        return size + Align.Up(directory, cluster);
    }
}
