using System.Buffers.Binary;
using System.Globalization;
using static Qcow2.CheckContext;

namespace Qcow2;

/// <summary>
/// The first pass of a check, QEMU's <c>calculate_refcounts</c>: counts a reference for every cluster the metadata uses (header,
/// active and snapshot L1/L2 tables and their data, snapshot table, refcount table and blocks, encryption header, bitmaps),
/// reporting what is wrong with the tables on the way, and repairing what <see cref="Qcow2CheckOptions.Repair"/> allows.
/// </summary>
internal sealed class ReferenceCountPass
{
    private readonly CheckContext context;
    private readonly IImageStorage storage;
    private readonly ImageMetadata image;
    private readonly Qcow2CheckRepair fix;
    private readonly int clusterBits;
    private readonly int clusterSize;
    private readonly ulong clusterMask;
    private readonly bool extendedL2;
    private readonly L1L2Geometry geometry;
    private readonly ClusterClassifier classifier;
    private InMemoryRefcounts computed = null!;
    private CheckCounters counters;
    private bool rebuild;
    /// <summary>The end of the furthest range the metadata claims one cluster or more past the end of the file, where QEMU counts nothing.</summary>
    private long claimedEnd;
    /// <summary>The active L1 table as the walk read it (empty when the header says it has no entries).</summary>
    private ulong[] activeL1 = [];
    private CopiedFlagSummary copied = null!;

    private ReferenceCountPass(CheckContext context, Qcow2CheckRepair fix)
    {
        this.context = context;
        this.fix = fix;
        storage = context.Storage;
        image = context.Image;
        clusterBits = context.ClusterBits;
        clusterSize = context.ClusterSize;
        clusterMask = (ulong)clusterSize - 1;
        extendedL2 = image.ExtendedL2;
        geometry = context.Geometry;
        classifier = context.Classifier;
    }

    /// <summary>Counts every reference in an image of <paramref name="fileClusters"/> clusters, repairing as <paramref name="fix"/> allows.</summary>
    public static ReferenceCounts Run(CheckContext context, Qcow2CheckRepair fix, long fileClusters)
    {
        var pass = new ReferenceCountPass(context, fix);
        pass.CountAll(fileClusters);
        return new ReferenceCounts(pass.computed, pass.activeL1, pass.copied, pass.rebuild, pass.claimedEnd, pass.counters);
    }

    private void CountAll(long fileClusters)
    {
        computed = new InMemoryRefcounts(fileClusters, Refcounts.MaxRefcount(context.RefcountOrder));
        copied = new CopiedFlagSummary(fileClusters);
        var fileLength = storage.Length;

        Count(0, clusterSize, fileLength);
        CheckL1((long)image.Header.L1TableOffset, image.Header.L1Size, active: true, fileLength, progressShare: 0.5);

        if (context.HasDataFile && image.Snapshots.Count > 0)
            Report(Qcow2CheckFindingKind.Snapshot, $"ERROR {image.Snapshots.Count} snapshots in image with data file");
        foreach (var snapshot in image.Snapshots)
        {
            var l1Offset = (ulong)snapshot.L1TableOffset;
            if ((l1Offset & clusterMask) != 0)
            {
                Report(Qcow2CheckFindingKind.Snapshot, $"ERROR snapshot {snapshot.Id} ({snapshot.Name}) l1_offset={HexPrefixed(l1Offset)}: L1 table is not cluster aligned; snapshot table entry corrupted");
                continue;
            }
            if ((uint)snapshot.L1Size > Limits.MaxL1Entries)
            {
                Report(Qcow2CheckFindingKind.Snapshot, $"ERROR snapshot {snapshot.Id} ({snapshot.Name}) l1_size={HexPrefixed((ulong)snapshot.L1Size)}: L1 table is too large; snapshot table entry corrupted");
                continue;
            }
            CheckL1((long)l1Offset, (uint)snapshot.L1Size, active: false, fileLength, progressShare: 0);
        }
        Count((long)image.Header.SnapshotsOffset, SnapshotTableWriter.TableBytes(image.Snapshots), fileLength);
        Count((long)image.Header.RefcountTableOffset, (long)context.RefcountTable.Length * sizeof(ulong), fileLength);
        if (image.FullDiskEncryption is { } crypto && crypto.Length != 0)
            Count((long)crypto.Offset, (long)crypto.Length, fileLength);
        CountBitmaps(fileLength);
        CheckRefcountBlocks();
    }

    /// <summary>QEMU's <c>qcow2_inc_refcounts_imrt</c>: one more reference for every cluster of a byte range.</summary>
    private void Count(long offset, long size, long fileLength)
    {
        if (size <= 0)
            return;
        // offset + size - file_len >= cs, computed without overflow on hostile values (a table offset of 2^63 or more
        // arrives here negative, and is past the end of any file).
        if (offset < 0 || offset > fileLength || size - (fileLength - offset) >= clusterSize)
        {
            // Such a range is not counted. Only claims that start within a repair's reach (the file plus MaxRepairGrowth) can
            // meet rebuilt structures; one far beyond it (a refcount block read as an L2 table, say) must not push them out of
            // reach. (A range that ends less than a cluster past the end is counted, and the rebuild goes after it.)
            if (offset >= 0 && offset < fileLength + Limits.MaxRepairGrowth && (ulong)offset <= Addressable.MaxLength - (ulong)size)
                claimedEnd = Math.Max(claimedEnd, offset + size);
            Report(Qcow2CheckFindingKind.PastEndOfFile,
                $"ERROR: counting reference for region exceeding the end of the file by one cluster or more: offset {HexPrefixed((ulong)offset)} size {HexPrefixed((ulong)size)}");
            return;
        }
        var first = offset >> clusterBits;
        var last = (offset + size - 1) >> clusterBits;
        for (var cluster = first; cluster <= last; cluster++)
            CountCluster(cluster);
    }

    private void CountCluster(long cluster)
    {
        if (computed.TryIncrement(cluster))
            return;
        Report(Qcow2CheckFindingKind.RefcountOverflow, $"ERROR: overflow cluster offset={HexPrefixed((ulong)cluster << clusterBits)}");
        context.Findings.Add(new Qcow2CheckFinding(Qcow2CheckFindingKind.RefcountOverflow,
            "Use qemu-img amend to increase the refcount entry width or qemu-img convert to create a clean copy if the image cannot be opened for writing"));
    }

    private void CheckL1(long l1Offset, uint l1Size, bool active, long fileLength, double progressShare)
    {
        if (l1Size == 0)
            return;
        Count(l1Offset, (long)l1Size * sizeof(ulong), fileLength);
        if (l1Offset < 0 || (ulong)l1Offset > Addressable.MaxLength - (ulong)l1Size * sizeof(ulong))
        {
            // QEMU's read of the table fails with EIO, and with it the whole check.
            context.Findings.Add(new Qcow2CheckFinding(Qcow2CheckFindingKind.CheckError, "ERROR: I/O error in check_refcounts_l1"));
            counters.CheckErrors++;
            throw new CheckFailedException("Input/output error", counters);
        }
        var l1 = EntryTable.Read(storage, l1Offset, (int)l1Size);
        if (active)
            activeL1 = l1;

        var l2Offsets = new ulong[l1.Length];
        for (var i = 0; i < l1.Length; i++)
        {
            var offset = new L1Entry(l1[i]).L2Offset;
            l2Offsets[i] = (offset & clusterMask) == 0 ? offset : 0;
        }

        using var prefetcher = context.CanPrefetch(fix) ? new ClusterPrefetcher(storage, clusterSize, l2Offsets) : null;
        using var reader = prefetcher is null ? new ClusterRunReader(storage, clusterSize) : null;
        byte[]? unalignedTable = null;
        for (var i = 0; i < l1.Length; i++)
        {
            if (l1[i] == 0)
                continue;
            var entry = new L1Entry(l1[i]);
            if (entry.HasReservedBits)
                Report(Qcow2CheckFindingKind.ReservedBits, $"ERROR found L1 entry with reserved bits set: {Hex(entry.Value)}");
            var l2Offset = entry.L2Offset;
            Count((long)l2Offset, clusterSize, fileLength);

            Span<byte> table;
            if ((l2Offset & clusterMask) != 0 || l2Offset == 0)
            {
                if ((l2Offset & clusterMask) != 0)
                    Report(Qcow2CheckFindingKind.Unaligned, $"ERROR l2_offset={Hex(l2Offset)}: Table is not cluster aligned; L1 entry corrupted");
                unalignedTable ??= new byte[clusterSize];
                storage.Read((long)l2Offset, unalignedTable);
                table = unalignedTable;
            }
            else
            {
                table = prefetcher is not null ? prefetcher.Get(i) : reader!.Get(l2Offsets, i);
            }
            // The COPIED pass skips an L1 entry without an offset (which here was read as a table at 0).
            CheckL2(table, (long)l2Offset, active, noteCopied: active && l2Offset != 0, fileLength);

            if (progressShare > 0 && (i & 255) == 0)
            {
                context.Options.CancellationToken.ThrowIfCancellationRequested();
                context.Options.Progress?.Report(progressShare * i / l1.Length);
            }
        }
    }

    private void CheckL2(Span<byte> table, long l2Offset, bool active, bool noteCopied, long fileLength)
    {
        ulong nextContiguous = 0;
        var entries = (int)geometry.L2Entries;
        for (var i = 0; i < entries; i++)
        {
            // Most entries are plain (unallocated, or a normal cluster with nothing to report): those in a row are told
            // apart in bulk and only counted; the first other one takes the full path.
            var plainEnd = i + classifier.CountPlainEntries(table, i, clusterBits);
            for (; i < plainEnd; i++)
            {
                // Entries pointing at consecutive clusters (a preallocated or sequentially written image) count as a range.
                var value = geometry.ReadEntry(table, i).Value;
                var run = 1;
                if ((value & L2Entry.OffsetMask) != 0)
                {
                    while (i + run < plainEnd && geometry.ReadEntry(table, i + run).Value == value + ((ulong)run << clusterBits))
                        run++;
                }
                if (run == 1 || !CountPlainRun(value, run, active, noteCopied, fileLength, ref nextContiguous))
                {
                    for (var k = 0; k < run; k++)
                        CountPlainEntry(value + ((ulong)k << clusterBits), active, noteCopied, fileLength, ref nextContiguous);
                }
                i += run - 1;
            }
            if (i < entries)
                CheckEntry(table, i, l2Offset, active, noteCopied, fileLength, ref nextContiguous);
        }
    }

    /// <summary>
    /// What <see cref="CountPlainEntry"/> does for each of <paramref name="run"/> plain entries pointing at consecutive clusters
    /// from <paramref name="value"/>'s on, done at once; false (and nothing done) where one of them must be counted on its
    /// own: past the end of the file, or at the end of an 8-bit count (where an overflow may have to be reported).
    /// </summary>
    private bool CountPlainRun(ulong value, int run, bool active, bool noteCopied, long fileLength, ref ulong nextContiguous)
    {
        var offset = value & L2Entry.OffsetMask;
        var end = offset + ((ulong)run << clusterBits);
        var first = (long)(offset >> clusterBits);
        if (end > (ulong)fileLength || !computed.TryIncrementRange(first, run))
            return false;
        if (noteCopied)
            copied.NoteRange(first, run, (value & L2Entry.CopiedFlag) != 0);
        if (active)
        {
            counters.AllocatedClusters += run;
            if (nextContiguous != 0 && offset != nextContiguous)
                counters.FragmentedClusters++;
            nextContiguous = end;
        }
        return true;
    }

    /// <summary>
    /// The part of <see cref="CheckEntry"/> that applies to an entry <see cref="ClusterClassifier.CountPlainEntries"/> calls
    /// plain (so standard entries and no external data file): a normal cluster at an aligned offset is counted, one without an
    /// offset is skipped.
    /// </summary>
    private void CountPlainEntry(ulong value, bool active, bool noteCopied, long fileLength, ref ulong nextContiguous)
    {
        // No offset is unallocated, COPIED or not.
        var offset = value & L2Entry.OffsetMask;
        if (offset == 0)
            return;
        if (noteCopied)
            copied.Note((long)(offset >> clusterBits), (value & L2Entry.CopiedFlag) != 0);
        if (active)
        {
            counters.AllocatedClusters++;
            if (nextContiguous != 0 && offset != nextContiguous)
                counters.FragmentedClusters++;
            nextContiguous = offset + (ulong)clusterSize;
        }
        if ((long)offset + clusterSize <= fileLength)
            CountCluster((long)(offset >> clusterBits));
        else
            Count((long)offset, clusterSize, fileLength);
    }

    /// <summary>Checks and counts L2 entry <paramref name="i"/> of <paramref name="table"/>, whatever it holds.</summary>
    private void CheckEntry(Span<byte> table, int i, long l2Offset, bool active, bool noteCopied, long fileLength, ref ulong nextContiguous)
    {
        var entry = geometry.ReadEntry(table, i);
        var value = entry.Value;
        var bitmap = geometry.ReadBitmap(table, i);
        var type = classifier.Classify(entry);
        if (entry.HasReservedBits)
            Report(Qcow2CheckFindingKind.ReservedBits, $"ERROR found l2 entry with reserved bits set: {Hex(value)}");

        switch (type)
        {
            case ClusterType.Compressed:
                if (entry.Copied)
                {
                    Report(Qcow2CheckFindingKind.Mapping, $"ERROR: coffset={HexPrefixed((ulong)entry.CompressedRange(clusterBits).Offset)}: copied flag must never be set for compressed clusters");
                    value &= ~L2Entry.CopiedFlag;
                }
                // QEMU reports these and then ignores the entry: no reference is counted, nor any statistic.
                if (context.HasDataFile)
                {
                    Report(Qcow2CheckFindingKind.Mapping, $"ERROR compressed cluster {i} with data file, entry={HexPrefixed(value)}");
                    break;
                }
                if (bitmap.Value != 0)
                {
                    Report(Qcow2CheckFindingKind.Mapping, $"ERROR compressed cluster {i} with non-zero subcluster allocation bitmap, entry={HexPrefixed(value)}");
                    break;
                }
                var (compressedOffset, compressedSize) = new L2Entry(value).CompressedRange(clusterBits);
                Count(compressedOffset, compressedSize, fileLength);
                if (active)
                {
                    counters.AllocatedClusters++;
                    counters.CompressedClusters++;
                    counters.FragmentedClusters++;
                }
                break;

            case ClusterType.ZeroAllocated or ClusterType.Normal:
                var offset = value & L2Entry.OffsetMask;
                if (noteCopied)
                {
                    // With a data file every such cluster has refcount 1: only a clear flag can be wrong.
                    if (!context.HasDataFile)
                        copied.Note((long)(offset >> clusterBits), entry.Copied);
                    else if (!entry.Copied)
                        copied.MarkUndecided();
                }
                if (bitmap.IsCorrupt)
                    Report(Qcow2CheckFindingKind.Mapping, $"ERROR offset={Hex(offset)}: Allocated cluster has corrupted subcluster allocation bitmap");
                if ((offset & clusterMask) != 0)
                {
                    var containsData = extendedL2 ? bitmap.AnyAllocated : type == ClusterType.Normal;
                    if (containsData)
                    {
                        Report(Qcow2CheckFindingKind.Unaligned, $"ERROR offset={Hex(offset)}: Data cluster is not properly aligned; L2 entry corrupted.");
                    }
                    else if (fix == Qcow2CheckRepair.All)
                    {
                        // A preallocated zero cluster holds no data: turning it into a plain zero cluster loses nothing.
                        geometry.WriteEntry(table, i, new L2Entry(extendedL2 ? 0UL : L2Entry.ZeroFlag));
                        var entryBytes = geometry.EntryRange(i);
                        storage.Write(l2Offset + entryBytes.Start.Value, table[entryBytes]);
                        storage.Flush();
                        context.Findings.Add(new Qcow2CheckFinding(Qcow2CheckFindingKind.Unaligned, $"Repairing offset={Hex(offset)}: Preallocated cluster is not properly aligned; L2 entry corrupted.", Repaired: true));
                        counters.CorruptionsFixed++;
                        return;
                    }
                    else
                    {
                        Report(Qcow2CheckFindingKind.Unaligned, $"ERROR offset={Hex(offset)}: Preallocated cluster is not properly aligned; L2 entry corrupted.");
                    }
                }
                if (active)
                {
                    counters.AllocatedClusters++;
                    if (nextContiguous != 0 && offset != nextContiguous)
                        counters.FragmentedClusters++;
                    nextContiguous = offset + (ulong)clusterSize;
                }
                if (context.HasDataFile)
                    break;
                if ((offset & clusterMask) == 0 && (long)offset + clusterSize <= fileLength)
                    CountCluster((long)(offset >> clusterBits));
                else
                    Count((long)offset, clusterSize, fileLength);
                break;

            case ClusterType.Unallocated:
                if (bitmap.AnyAllocated)
                    Report(Qcow2CheckFindingKind.Mapping, $"ERROR: Unallocated cluster has non-zero subcluster allocation map");
                break;
        }
    }

    private void CountBitmaps(long fileLength)
    {
        if (image.BitmapsExtension is not { } extension)
            return;
        Count((long)extension.DirectoryOffset, (long)extension.DirectorySize, fileLength);
        var invalidated = false;
        foreach (var bitmap in image.Bitmaps)
        {
            var markedInUse = bitmap.InUse;
            Count(bitmap.TableOffset, (long)bitmap.TableSize * sizeof(ulong), fileLength);
            // A bitmap table may be 512 MiB: read it in chunks, and only the part inside the file (past its end every entry
            // reads as zero, which is valid and references nothing), so a tiny file claiming huge tables costs nothing.
            var table = EntryTableReader.ForBitmap(storage, bitmap);
            for (long i = 0; i < table.InFile; i++)
            {
                var entry = new BitmapTableEntry(table[i]);
                if (!entry.IsValid(clusterSize))
                {
                    // QEMU's bitmap_table_load fails on the first bad entry, and with it the whole check.
                    counters.Corruptions++;
                    throw new CheckFailedException("Invalid argument", counters);
                }
                if (entry.Offset >= (ulong)fileLength && fix == Qcow2CheckRepair.All)
                    InvalidateBitmapEntry(bitmap, i, entry, ref markedInUse);
                else if (entry.Offset != 0)
                    Count((long)entry.Offset, clusterSize, fileLength);
            }
            invalidated |= markedInUse != bitmap.InUse;
        }
        if (invalidated)
            image.Bitmaps = BitmapLoader.Load(storage, extension, clusterSize, image.VirtualSize);
    }

    /// <summary>
    /// Repairs a bitmap table entry whose data cluster lies past the end of the file. Those bits are lost, so the bitmap can no
    /// longer say what is clean: it is marked in use (inconsistent; it can only be removed) before the entry is cleared, so
    /// that a crash in between leaves it marked and still broken, never quietly "clean". (QEMU 7.2's repair fails here, and
    /// its next writable open rewrites the bitmap with those bits clear.)
    /// </summary>
    private void InvalidateBitmapEntry(Qcow2Bitmap bitmap, long index, BitmapTableEntry entry, ref bool markedInUse)
    {
        Span<byte> bytes = stackalloc byte[sizeof(ulong)];
        if (!markedInUse)
        {
            BinaryPrimitives.WriteUInt32BigEndian(bytes, bitmap.Entry.Flags | BitmapDirectoryEntry.InUseFlag);
            storage.Write(bitmap.EntryOffset + BitmapDirectoryEntry.FlagsOffset, bytes[..sizeof(uint)]);
            storage.Flush();
            markedInUse = true;
        }
        bytes.Clear();
        storage.Write(bitmap.TableOffset + index * sizeof(ulong), bytes);
        storage.Flush();
        context.Findings.Add(new Qcow2CheckFinding(Qcow2CheckFindingKind.Mapping, string.Create(CultureInfo.InvariantCulture,
            $"Repairing bitmap '{bitmap.Name}': table entry {index} pointed past the end of the file (offset {HexPrefixed(entry.Offset)}); its bits there are lost, so the bitmap is now marked in use (inconsistent) and can only be removed"),
            Repaired: true));
        counters.CorruptionsFixed++;
    }

    /// <summary>QEMU's <c>check_refblocks</c>: the refcount blocks themselves.</summary>
    private void CheckRefcountBlocks()
    {
        var fileLength = storage.Length;
        for (var i = 0; i < context.RefcountTable.Length; i++)
        {
            var entry = new RefcountTableEntry(context.RefcountTable[i]);
            var offset = entry.BlockOffset;
            var cluster = (long)(offset >> clusterBits);
            if (entry.HasReservedBits)
            {
                Report(Qcow2CheckFindingKind.ReservedBits, $"ERROR refcount table entry {i} has reserved bits set");
                rebuild = true;
                continue;
            }
            if ((offset & clusterMask) != 0)
            {
                Report(Qcow2CheckFindingKind.Unaligned, $"ERROR refcount block {i} is not cluster aligned; refcount table entry corrupted");
                rebuild = true;
                continue;
            }
            if (offset == 0)
                continue;
            if (cluster >= computed.Count)
            {
                // QEMU grows the file to reach the block whatever its offset; a hostile offset would make the file (and every
                // per-cluster structure of the check) astronomically large, so grow it only a little and within the table's reach.
                if (fix == Qcow2CheckRepair.All && offset <= (ulong)(fileLength + Limits.MaxRepairGrowth - clusterSize) && (ulong)cluster < context.DescribableClusters)
                {
                    // Extending the file makes the block readable (as zeros); the rebuild or the comparison then fixes its counts.
                    context.Findings.Add(new Qcow2CheckFinding(Qcow2CheckFindingKind.RefcountBlock, $"Repairing refcount block {i} is outside image", cluster, Repaired: true));
                    fileLength = (long)offset + clusterSize;
                    storage.SetLength(fileLength);
                    computed.EnsureCount(context.ClustersFor(fileLength));
                    counters.CorruptionsFixed++;
                    Count((long)offset, clusterSize, fileLength);
                }
                else if (fix == Qcow2CheckRepair.All)
                {
                    // QEMU's resize_fail: the rebuild places the block's counts somewhere reachable.
                    Report(Qcow2CheckFindingKind.RefcountBlock, $"Repairing refcount block {i} is outside image", cluster);
                    context.Findings.Add(new Qcow2CheckFinding(Qcow2CheckFindingKind.RefcountBlock, "ERROR could not resize image: File too large", cluster));
                    rebuild = true;
                }
                else
                {
                    Report(Qcow2CheckFindingKind.RefcountBlock, $"ERROR refcount block {i} is outside image", cluster);
                }
                continue;
            }
            Count((long)offset, clusterSize, fileLength);
            if (computed[cluster] != 1)
            {
                Report(Qcow2CheckFindingKind.RefcountBlock, $"ERROR refcount block {i} refcount={computed[cluster]}", cluster);
                rebuild = true;
            }
        }
    }

    private void Report(Qcow2CheckFindingKind kind, string message, long? cluster = null)
    {
        context.Findings.Add(new Qcow2CheckFinding(kind, message, cluster));
        counters.Corruptions++;
    }
}
