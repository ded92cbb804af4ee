namespace Qcow2;

/// <summary>
/// QEMU's <c>compare_refcounts</c>: compares the counted references with the refcounts on disk, a refcount block at a time,
/// reporting (and, as <see cref="Qcow2CheckOptions.Repair"/> allows, repairing) every difference.
/// </summary>
internal sealed class RefcountComparisonPass
{
    private readonly CheckContext context;
    private readonly InMemoryRefcounts computed;
    private readonly Qcow2CheckRepair fix;
    private readonly int refcountOrder;
    private readonly long refcountsPerBlock;
    private readonly Dictionary<long, ulong> unfixedOnDisk = [];
    private CheckCounters counters;
    private bool rebuild;
    private long highestCluster;

    private RefcountComparisonPass(CheckContext context, InMemoryRefcounts computed, Qcow2CheckRepair fix)
    {
        this.context = context;
        this.computed = computed;
        this.fix = fix;
        refcountOrder = context.RefcountOrder;
        refcountsPerBlock = context.RefcountsPerBlock;
    }

    public static ComparedRefcounts Run(CheckContext context, InMemoryRefcounts computed, Qcow2CheckRepair fix)
    {
        var pass = new RefcountComparisonPass(context, computed, fix);
        pass.CompareAll();
        return new ComparedRefcounts(context, computed, pass.unfixedOnDisk, pass.highestCluster, pass.rebuild, pass.counters);
    }

    private void CompareAll()
    {
        var clusters = computed.Count;
        var blocks = (clusters + refcountsPerBlock - 1) / refcountsPerBlock;
        var blockOffsets = new ulong[blocks];
        for (var r = 0; r < blocks && r < context.RefcountTable.Length; r++)
        {
            var offset = new RefcountTableEntry(context.RefcountTable[r]).BlockOffset;
            blockOffsets[r] = context.Readable(offset) ? offset : 0;
        }

        // Repairs write blocks back through the reader; a comparison that only counts may read ahead.
        using var prefetcher = context.CanPrefetch(fix) ? new ClusterPrefetcher(context.Storage, context.ClusterSize, blockOffsets) : null;
        using var reader = prefetcher is null ? new ClusterRunReader(context.Storage, context.ClusterSize) : null;
        CompareBlocks(prefetcher, reader, blocks, blockOffsets);
    }

    private void CompareBlocks(ClusterPrefetcher? prefetcher, ClusterRunReader? reader, long blocks, ulong[] blockOffsets)
    {
        var clusters = computed.Count;
        for (var r = 0; r < blocks; r++)
        {
            var first = r * refcountsPerBlock;
            var count = Math.Min(refcountsPerBlock, clusters - first);
            var offset = r < context.RefcountTable.Length ? new RefcountTableEntry(context.RefcountTable[r]).BlockOffset : 0;

            if (!context.Readable(offset))
            {
                // QEMU cannot read refcounts through an unaligned block, nor one past the largest readable offset: each
                // cluster it covers is an internal error.
                for (var cluster = first; cluster < first + count; cluster++)
                {
                    context.Findings.Add(new Qcow2CheckFinding(Qcow2CheckFindingKind.CheckError, $"Can't get refcount for cluster {cluster}: Input/output error", cluster));
                    counters.CheckErrors++;
                }
                continue;
            }

            var block = offset == 0 ? Span<byte>.Empty : prefetcher is not null ? prefetcher.Get(r) : reader!.Get(blockOffsets, r);
            if (offset == 0 && !computed.AnyInRange(first, count))
                continue;
            if (offset == 0 || !BlockMatches(block, first, (int)count))
                CompareBlock(reader, block, (long)offset, first, count);

            if ((r & 63) == 0)
            {
                context.Options.CancellationToken.ThrowIfCancellationRequested();
                context.Options.Progress?.Report(0.5 + 0.4 * r / blocks);
            }
        }
    }

    /// <summary>
    /// Whether a block of 16-bit (the default) or 8-bit refcounts equals the counts, compared whole; then the highest cluster
    /// is the block's last non-zero one. False (compare each cluster) for other widths and where the counts are not 8-bit.
    /// </summary>
    private bool BlockMatches(ReadOnlySpan<byte> block, long first, int count)
    {
        if (refcountOrder is not (3 or 4))
            return false;
        var last = -1;
        // A block of more than a page of counts (clusters larger than 128 KiB) is compared a page at a time.
        for (var done = 0; done < count;)
        {
            var part = Math.Min(count - done, InMemoryRefcounts.PageSize - (int)((first + done) & InMemoryRefcounts.PageMask));
            if (!computed.TryGetBytes(first + done, part, out var counts))
                return false;
            var onDisk = block[((done << refcountOrder) >> 3)..];
            if (!(refcountOrder == 3 ? onDisk[..part].SequenceEqual(counts) : Refcounts.Equal16(onDisk, counts)))
                return false;
            var partLast = counts.LastIndexOfAnyExcept((byte)0);
            if (partLast >= 0)
                last = done + partLast;
            done += part;
        }
        if (last >= 0)
            highestCluster = first + last;
        return true;
    }

    /// <summary>Compares a block cluster by cluster, reporting and repairing each difference, and writes it back if repaired.</summary>
    private void CompareBlock(ClusterRunReader? reader, Span<byte> block, long offset, long first, long count)
    {
        var changed = false;
        for (long index = 0; index < count; index++)
        {
            var cluster = first + index;
            var onDisk = offset == 0 ? 0 : Refcounts.Get(block, index, refcountOrder);
            var references = computed[cluster];
            if (onDisk > 0 || references > 0)
                highestCluster = cluster;
            if (onDisk == references)
                continue;
            changed |= CompareOne(block, index, cluster, onDisk, references);
        }
        // Only a repair changes a block, and a repair reads through a reader.
        if (changed)
            reader!.WriteBack(offset);
    }

    /// <summary>Handles one mismatch; returns whether <paramref name="block"/> was changed.</summary>
    private bool CompareOne(Span<byte> block, long index, long cluster, ulong onDisk, ulong references)
    {
        var repair = onDisk != 0 && ((onDisk > references && fix != Qcow2CheckRepair.None) || (onDisk < references && fix == Qcow2CheckRepair.All));
        if (onDisk == 0)
            rebuild = true;
        var kind = onDisk > references ? Qcow2CheckFindingKind.Leak : onDisk == 0 ? Qcow2CheckFindingKind.RefcountZero : Qcow2CheckFindingKind.RefcountTooLow;
        var verb = repair ? "Repairing" : onDisk < references ? "ERROR" : "Leaked";
        context.Findings.Add(new Qcow2CheckFinding(kind, $"{verb} cluster {cluster} refcount={onDisk} reference={references}", cluster, onDisk, references, repair));
        if (repair)
        {
            Refcounts.Set(block, index, refcountOrder, references);
            if (onDisk > references)
                counters.LeaksFixed++;
            else
                counters.CorruptionsFixed++;
            return true;
        }
        unfixedOnDisk[cluster] = onDisk;
        if (onDisk < references)
            counters.Corruptions++;
        else
            counters.Leaks++;
        return false;
    }
}
