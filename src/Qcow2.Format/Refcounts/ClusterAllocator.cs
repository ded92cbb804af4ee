namespace Qcow2;

/// <summary>
/// Allocates and frees host clusters through the refcounts on disk, creating refcount blocks and growing the refcount table
/// as needed (spec §4.4). Every refcount change is written through before the call returns (unless
/// <see cref="DeferWrites"/> holds back allocations), so a caller that links a new
/// cluster only after <see cref="Allocate"/> (and a flush) can leave at worst a leak, never a reference to a free cluster;
/// and one that unlinks before <see cref="Free"/> likewise. Each call writes every refcount block it changes once, and
/// only the blocks it changes stay in memory until then: clean blocks are cached up to <see cref="MaxCleanCacheBytes"/>.
/// </summary>
internal sealed class ClusterAllocator
{
    private readonly IImageStorage storage;
    private readonly ImageMetadata image;
    private readonly int clusterBits;
    private readonly int clusterSize;
    private readonly int refcountOrder;
    private readonly long perBlock;
    /// <summary>The most bytes of unchanged refcount blocks kept cached: a walk over a large image must not keep them all.</summary>
    private const int MaxCleanCacheBytes = 1 << 20;

    private readonly Dictionary<long, byte[]> blocks = [];
    private readonly SortedSet<long> dirtyBlocks = [];
    private readonly int maxCleanBlocks;
    private ulong[] table;
    private long searchFrom = 1;

    public ClusterAllocator(IImageStorage storage, ImageMetadata image)
    {
        this.storage = storage;
        this.image = image;
        clusterBits = image.ClusterBits;
        clusterSize = image.ClusterSize;
        refcountOrder = (int)image.Header.RefcountOrder;
        perBlock = Refcounts.EntriesPerBlock(clusterBits, refcountOrder);
        maxCleanBlocks = Math.Max(4, MaxCleanCacheBytes / clusterSize);
        var entries = (int)((long)image.Header.RefcountTableClusters * clusterSize / sizeof(ulong));
        // Open accepts a table past the end of the file (QEMU reads zeros there); allocating through it would write there.
        if (image.Header.RefcountTableOffset + (ulong)entries * sizeof(ulong) > (ulong)storage.Length)
            throw new Qcow2FormatException("The refcount table lies past the end of the file; repair the image first (Qcow2Image.Check with Qcow2CheckRepair.All)",
                nameof(Qcow2Header) + ".RefcountTableOffset", "0x" + image.Header.RefcountTableOffset.ToString("X", System.Globalization.CultureInfo.InvariantCulture));
        table = EntryTable.Read(storage, (long)image.Header.RefcountTableOffset, entries);
        var lastBlockOffset = (ulong)Math.Max(0, storage.Length - clusterSize); // once: the length is an fstat
        foreach (var value in table)
        {
            var entry = new RefcountTableEntry(value);
            if (entry.HasReservedBits || entry.BlockOffset % (ulong)clusterSize != 0 || entry.BlockOffset > lastBlockOffset)
                throw new Qcow2FormatException("The refcount table is damaged; repair the image first (Qcow2Image.Check with Qcow2CheckRepair.All)",
                    "RefcountTableEntry", "0x" + value.ToString("X16", System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    /// <summary>
    /// Whether <see cref="Allocate"/> leaves the refcounts it raises in existing blocks for <see cref="WritePending"/>, so that
    /// a caller allocating cluster by cluster writes each block once; it must call <see cref="WritePending"/> (and flush)
    /// before it links anything allocated. A crash before that leaves the clusters free, as if never allocated.
    /// </summary>
    public bool DeferWrites { get; init; }

    /// <summary>Writes the refcount blocks changed by allocations and not written yet (<see cref="DeferWrites"/>).</summary>
    public void WritePending() => WriteDirtyBlocks();

    /// <summary>The refcount of a cluster as stored on disk, or as allocated already where <see cref="DeferWrites"/> holds it back (0 where no block describes it).</summary>
    public ulong Get(long cluster)
    {
        var block = Block(cluster / perBlock);
        return block is null ? 0 : Refcounts.Get(block, cluster % perBlock, refcountOrder);
    }

    /// <summary>Allocates <paramref name="count"/> contiguous clusters with refcount 1 and returns the first one's byte offset.</summary>
    public long Allocate(long count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        if (FindFreeRunInDescribedClusters(count) is { } first)
        {
            for (var cluster = first; cluster < first + count; cluster++)
                Update(cluster, 1);
            if (!DeferWrites)
                WriteDirtyBlocks();
        }
        else
            first = AppendRun(count);
        searchFrom = first + count;
        return first << clusterBits;
    }

    /// <summary>The cluster indexes of <paramref name="count"/> clusters from byte offset <paramref name="offset"/>.</summary>
    public IEnumerable<long> Clusters(long offset, long count)
    {
        var first = offset >> clusterBits;
        for (var cluster = first; cluster < first + count; cluster++)
            yield return cluster;
    }

    /// <summary>
    /// Lowers the refcount of each listed cluster by one (a cluster listed twice loses two); a cluster is free once it reaches
    /// 0. Each touched refcount block is written once, at the end.
    /// </summary>
    /// <param name="clusters">The clusters, one reference each.</param>
    /// <param name="releaseSpace">
    /// Also punch holes for the clusters that became free, once their refcounts are flushed (QEMU's discard of freed clusters);
    /// their references must be gone from the disk already.
    /// </param>
    /// <exception cref="Qcow2FormatException">A cluster's refcount is already 0; nothing is written then.</exception>
    public void Free(IEnumerable<long> clusters, bool releaseSpace = false) => Lower(clusters, strict: true, releaseSpace);

    /// <summary>
    /// Like <see cref="Free"/>, but skips clusters whose refcount is already 0 or cannot be read: for clusters that became
    /// garbage with a switch already made, where a leak is the worst a failure may leave.
    /// </summary>
    public void FreeQuietly(IEnumerable<long> clusters) => Lower(clusters, strict: false, releaseSpace: false);

    private void Lower(IEnumerable<long> clusters, bool strict, bool releaseSpace)
    {
        // Held-back allocations go first: a refused free below forgets the unwritten changes.
        WriteDirtyBlocks();
        var lowest = long.MaxValue;
        // One bit per cluster of each changed block rather than a list: a shrink may free millions of clusters.
        var released = releaseSpace ? new Dictionary<long, ulong[]>() : null;
        foreach (var cluster in clusters)
        {
            ulong value;
            try
            {
                value = Get(cluster);
            }
            catch (Qcow2FormatException) when (!strict)
            {
                continue;
            }
            if (value == 0)
            {
                if (!strict)
                    continue;
                // Forget the changes made so far: the cached blocks must keep matching the disk.
                foreach (var index in dirtyBlocks)
                    blocks.Remove(index);
                dirtyBlocks.Clear();
                throw new Qcow2FormatException($"Cannot free cluster {cluster}: its refcount is already 0", "Refcount", "0");
            }
            Update(cluster, value - 1);
            if (value == 1 && released is not null)
            {
                var index = cluster / perBlock;
                if (!released.TryGetValue(index, out var bits))
                    released[index] = bits = new ulong[(perBlock + 63) / 64];
                var at = cluster % perBlock;
                bits[at >> 6] |= 1UL << (int)(at & 63);
            }
            lowest = Math.Min(lowest, cluster);
        }
        WriteDirtyBlocks();
        if (released is { Count: > 0 })
        {
            storage.Flush();
            PunchHoles(released);
        }
        if (lowest != long.MaxValue)
            searchFrom = Math.Max(1, Math.Min(searchFrom, lowest));
    }

    /// <summary>Punches one hole per run of adjacent clusters, given as one bit per cluster of each refcount block's range.</summary>
    private void PunchHoles(Dictionary<long, ulong[]> released)
    {
        long runStart = -1, runEnd = -1;
        foreach (var index in released.Keys.Order())
        {
            var bits = released[index];
            for (var word = 0; word < bits.Length; word++)
            {
                for (var set = bits[word]; set != 0; set &= set - 1)
                {
                    var cluster = index * perBlock + word * 64 + System.Numerics.BitOperations.TrailingZeroCount(set);
                    if (cluster != runEnd)
                    {
                        if (runStart >= 0)
                            storage.PunchHole(runStart << clusterBits, (runEnd - runStart) << clusterBits);
                        runStart = cluster;
                    }
                    runEnd = cluster + 1;
                }
            }
        }
        if (runStart >= 0)
            storage.PunchHole(runStart << clusterBits, (runEnd - runStart) << clusterBits);
    }

    /// <summary>
    /// Raises the refcount of each listed cluster by one (a cluster listed twice gains two), writing each touched refcount block
    /// once. Every cluster is checked first (<see cref="CheckCanAddReferences"/>), so that nothing is written when one fails.
    /// </summary>
    /// <exception cref="Qcow2FormatException">A cluster lies where no refcount block describes it.</exception>
    /// <exception cref="OverflowException">A refcount would exceed what the refcount width can hold.</exception>
    public void AddReferences(List<long> clusters)
    {
        CheckCanAddReferences(clusters);
        foreach (var cluster in clusters)
            Update(cluster, Get(cluster) + 1);
        WriteDirtyBlocks();
    }

    /// <summary>Throws what <see cref="AddReferences"/> would throw, without a write. Sorts <paramref name="clusters"/>.</summary>
    public void CheckCanAddReferences(List<long> clusters)
    {
        clusters.Sort();
        var max = Refcounts.MaxRefcount(refcountOrder);
        for (var i = 0; i < clusters.Count;)
        {
            var cluster = clusters[i];
            var run = 1;
            while (i + run < clusters.Count && clusters[i + run] == cluster)
                run++;
            if (cluster <= 0 || Block(cluster / perBlock) is null)
                throw new Qcow2FormatException($"Cluster {cluster} is referenced but no refcount block describes it; repair the image first (qcow2 check -r all)",
                    "Refcount", cluster.ToString(System.Globalization.CultureInfo.InvariantCulture));
            if (max - Get(cluster) < (ulong)run)
                throw new OverflowException($"The refcount of cluster {cluster} would exceed {max}, the most a {1 << refcountOrder}-bit refcount holds");
            i += run;
        }
    }

    /// <summary>
    /// Unlinks refcount blocks that describe no used cluster but themselves (QEMU's <c>qcow2_shrink_reftable</c>), so that the
    /// file can be truncated after a shrink. The table entries are cleared with one write and flushed first; then a block whose
    /// refcount sits in another block gets that refcount lowered. A crash in between leaves at worst a leak. Repeats while
    /// that makes more blocks empty. Last, holes are punched where the dropped blocks were (QEMU discards them too): a shrink's
    /// blocks lie every few megabytes through the file, where truncation cannot reach. Returns the number of blocks dropped.
    /// </summary>
    public int DropEmptyBlocks()
    {
        var dropped = 0;
        while (true)
        {
            var empty = new List<long>();
            for (var index = 0L; index < table.Length; index++)
            {
                if (Block(index) is not { } block)
                    continue;
                var own = (long)new RefcountTableEntry(table[index]).BlockOffset >> clusterBits;
                var used = false;
                for (var i = 0L; i < perBlock && !used; i++)
                    used = index * perBlock + i != own && Refcounts.Get(block, i, refcountOrder) != 0;
                if (!used)
                    empty.Add(index);
            }
            if (empty.Count == 0)
                return dropped;

            var owners = new List<long>(empty.Count);
            foreach (var index in empty)
            {
                owners.Add((long)new RefcountTableEntry(table[index]).BlockOffset >> clusterBits);
                table[index] = 0;
                blocks.Remove(index);
                dirtyBlocks.Remove(index);
            }
            WriteTableEntries(empty[0], empty[^1]);
            storage.Flush();
            var freed = new List<long>(owners.Count);
            foreach (var cluster in owners)
            {
                // A block described by itself is free once unlinked; one described by a remaining block loses that refcount.
                if (Block(cluster / perBlock) is null)
                    freed.Add(cluster);
                else if (Get(cluster) is var refcount and > 0)
                {
                    Update(cluster, refcount - 1);
                    if (refcount == 1)
                        freed.Add(cluster);
                }
            }
            WriteDirtyBlocks();
            storage.Flush();
            foreach (var cluster in freed)
                storage.PunchHole(cluster << clusterBits, clusterSize);
            dropped += empty.Count;
            searchFrom = 1;
        }
    }

    /// <summary>Every cluster whose refcount is not 0, with that refcount, in cluster order.</summary>
    public IEnumerable<(long Cluster, ulong Refcount)> NonZeroRefcounts()
    {
        for (var index = 0L; index < table.Length; index++)
        {
            if (Block(index) is not { } block)
                continue;
            for (var i = 0L; i < perBlock; i++)
            {
                if (Refcounts.Get(block, i, refcountOrder) is var value and not 0)
                    yield return (index * perBlock + i, value);
            }
        }
    }

    /// <summary>The clusters of the refcount structures themselves: the table's, then each block's in table order.</summary>
    public List<long> StructureClusters()
    {
        var clusters = Clusters((long)image.Header.RefcountTableOffset, image.Header.RefcountTableClusters).ToList();
        foreach (var value in table)
        {
            if (value != 0)
                clusters.Add((long)new RefcountTableEntry(value).BlockOffset >> clusterBits);
        }
        return clusters;
    }

    /// <summary>The byte offset just past the last cluster whose refcount is not 0: where the file can be truncated.</summary>
    public long UsedEnd()
    {
        for (var index = (long)table.Length - 1; index >= 0; index--)
        {
            if (Block(index) is not { } block)
                continue;
            for (var i = perBlock - 1; i >= 0; i--)
            {
                if (Refcounts.Get(block, i, refcountOrder) != 0)
                    return (index * perBlock + i + 1) << clusterBits;
            }
        }
        return 0;
    }

    /// <summary>A run of free clusters below the end of the file whose refcount blocks exist already: reusing holes costs no new metadata.</summary>
    private long? FindFreeRunInDescribedClusters(long count)
    {
        var fileClusters = (storage.Length + clusterSize - 1) >> clusterBits;
        long runStart = -1;
        for (var cluster = searchFrom; cluster < fileClusters; cluster++)
        {
            var index = cluster / perBlock;
            if (index >= table.Length || table[index] == 0)
            {
                runStart = -1;
                cluster = (index + 1) * perBlock - 1;
                continue;
            }
            if (Get(cluster) != 0)
            {
                runStart = -1;
                continue;
            }
            if (runStart < 0)
                runStart = cluster;
            if (cluster - runStart + 1 == count)
                return runStart;
        }
        return null;
    }

    /// <summary>
    /// Reserves <paramref name="count"/> clusters after everything in use, first writing the refcount blocks that will
    /// describe them (placed right after the run, describing themselves too) and growing the refcount table if it is too short.
    /// The run's refcounts are written too, each block once: new blocks are written with them, existing ones updated.
    /// </summary>
    private long AppendRun(long count)
    {
        while (true)
        {
            var plan = RefcountBlockPlanner.Plan(EndCluster(), count, perBlock, clusterSize, HasBlock);
            if (plan.NewBlocks.Count > 0 && plan.NewBlocks[^1] >= table.Length)
            {
                GrowTable(plan.NewBlocks[^1] + 1);
                continue;
            }
            WriteNewBlocks(plan, plan.Start);
            WriteDirtyBlocks();
            if (plan.NewBlocks.Count > 0)
            {
                storage.Flush();
                // One write for all the new entries: a block's own refcount may live in another new block (they sit side
                // by side after the run), so linking them one at a time would let a crash leave a linked block whose
                // cluster has refcount 0 (found by the resize fault-injection test).
                for (var b = 0; b < plan.NewBlocks.Count; b++)
                    table[plan.NewBlocks[b]] = (ulong)((plan.BlocksStart + b) << clusterBits);
                WriteTableEntries(plan.NewBlocks[0], plan.NewBlocks[^1]);
                storage.Flush();
            }
            return plan.Start;
        }
    }

    /// <summary>
    /// Replaces the refcount table with a larger one written after the end of the image, together with the blocks that describe
    /// it, then switches the header to it with one 12-byte write, then frees the old table. A crash at any point leaves either
    /// table in force, with at worst leaked clusters.
    /// </summary>
    private void GrowTable(long minimumEntries)
    {
        var plan = RefcountBlockPlanner.Plan(EndCluster(), 0, perBlock, clusterSize, HasBlock,
            newTable: true, minimumTableEntries: Math.Max(minimumEntries, table.Length + table.Length / 2));
        if (plan.TableClusters * clusterSize > Limits.MaxRefcountTableBytes)
            throw new Qcow2FormatException($"The refcount table would need {plan.TableClusters} clusters, more than QEMU's limit of {Limits.MaxRefcountTableBytes} bytes",
                nameof(Qcow2Header) + ".RefcountTableClusters", plan.TableClusters.ToString(System.Globalization.CultureInfo.InvariantCulture));

        var newTable = new ulong[plan.TableClusters * clusterSize / sizeof(ulong)];
        table.CopyTo(newTable, 0);
        WriteNewBlocks(plan, plan.TableStart);
        for (var b = 0; b < plan.NewBlocks.Count; b++)
            newTable[plan.NewBlocks[b]] = (ulong)((plan.BlocksStart + b) << clusterBits);
        WriteDirtyBlocks();
        EntryTable.Write(storage, plan.TableStart << clusterBits, newTable);
        storage.Flush();

        var oldOffset = (long)image.Header.RefcountTableOffset;
        var oldClusters = image.Header.RefcountTableClusters;
        HeaderFieldUpdates.SwitchRefcountTable(storage, image, plan.TableStart << clusterBits, (uint)plan.TableClusters);
        table = newTable;
        Free(Clusters(oldOffset, oldClusters));
        storage.Flush();
    }

    /// <summary>
    /// Writes the planned new blocks, each holding refcount 1 for the clusters of [<paramref name="firstCounted"/>, plan end)
    /// it describes. The clusters of that range that existing blocks describe get their refcount there (written by
    /// <see cref="WriteDirtyBlocks"/>).
    /// </summary>
    private void WriteNewBlocks(RefcountPlacement plan, long firstCounted)
    {
        // New blocks are not cached (a large run has many): one buffer serves them all, and they are read back when needed.
        var block = plan.NewBlocks.Count > 0 ? new byte[clusterSize] : [];
        for (var b = 0; b < plan.NewBlocks.Count; b++)
        {
            var index = plan.NewBlocks[b];
            block.AsSpan().Clear();
            for (var cluster = Math.Max(firstCounted, index * perBlock); cluster < Math.Min(plan.End, (index + 1) * perBlock); cluster++)
                Refcounts.Set(block, cluster % perBlock, refcountOrder, 1);
            storage.Write((plan.BlocksStart + b) << clusterBits, block);
        }
        for (var index = firstCounted / perBlock; index * perBlock < plan.End; index++)
        {
            if (!HasBlock(index))
                continue;
            for (var cluster = Math.Max(firstCounted, index * perBlock); cluster < Math.Min(plan.End, (index + 1) * perBlock); cluster++)
                Update(cluster, 1);
        }
    }

    private bool HasBlock(long index) => index < table.Length && table[index] != 0;

    /// <summary>The first cluster after the end of the file and after every cluster with a refcount.</summary>
    public long EndCluster()
    {
        var end = (storage.Length + clusterSize - 1) >> clusterBits;
        // Refcounts just past the end of the file belong to clusters allocated but not written yet. Far past it they can only
        // be stale or hostile, and honouring them would place new clusters at absurd offsets.
        var horizon = end + (Limits.MaxRepairGrowth >> clusterBits);
        for (var index = Math.Min(table.Length - 1, (horizon - 1) / perBlock); index >= 0; index--)
        {
            if (Block(index) is not { } block)
                continue;
            for (var i = Math.Min(perBlock - 1, horizon - 1 - index * perBlock); i >= 0; i--)
            {
                if (Refcounts.Get(block, i, refcountOrder) != 0)
                    return Math.Max(end, index * perBlock + i + 1);
            }
        }
        return end;
    }

    private void Update(long cluster, ulong value)
    {
        var index = cluster / perBlock;
        var block = Block(index) ?? throw new InvalidOperationException($"cluster {cluster} has no refcount block");
        Refcounts.Set(block, cluster % perBlock, refcountOrder, value);
        dirtyBlocks.Add(index);
    }

    private void WriteDirtyBlocks()
    {
        foreach (var index in dirtyBlocks)
            storage.Write((long)new RefcountTableEntry(table[index]).BlockOffset, blocks[index]);
        dirtyBlocks.Clear();
    }

    /// <summary>Forgets the cached blocks that match the disk (callers may still hold one: it stays valid, as it is unchanged).</summary>
    private void DropCleanBlocks()
    {
        foreach (var index in blocks.Keys.ToList())
        {
            if (!dirtyBlocks.Contains(index))
                blocks.Remove(index);
        }
    }

    /// <summary>Writes the table entries <paramref name="first"/>..<paramref name="last"/> (inclusive) with one write.</summary>
    private void WriteTableEntries(long first, long last) =>
        EntryTable.Write(storage, (long)image.Header.RefcountTableOffset + first * sizeof(ulong), table.AsSpan((int)first, (int)(last - first + 1)));

    private byte[]? Block(long index)
    {
        if (index >= table.Length || table[index] == 0)
            return null;
        if (!blocks.TryGetValue(index, out var block))
        {
            if (blocks.Count - dirtyBlocks.Count >= maxCleanBlocks)
                DropCleanBlocks();
            block = new byte[clusterSize];
            storage.Read((long)new RefcountTableEntry(table[index]).BlockOffset, block);
            blocks[index] = block;
        }
        return block;
    }
}
