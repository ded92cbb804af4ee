using static Qcow2.CheckContext;

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

        using var reader = new ClusterRunReader(context.Storage, context.ClusterSize);
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

            var block = offset == 0 ? Span<byte>.Empty : reader.Get(blockOffsets, r);
            if (offset == 0 && !computed.AnyInRange(first, count))
                continue;
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
            if (changed)
                reader.WriteBack((long)offset);

            if ((r & 63) == 0)
            {
                context.Options.CancellationToken.ThrowIfCancellationRequested();
                context.Options.Progress?.Report(0.5 + 0.4 * r / blocks);
            }
        }
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
