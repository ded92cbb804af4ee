using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;

namespace Qcow2;

/// <summary>
/// Rebuilds every refcount from scratch by walking all metadata and compares the result with the refcounts on disk, with
/// QEMU 7.2's classification, messages and repairs (<c>qcow2_check_refcounts</c>, spec §8). Differences from QEMU, on purpose:
/// a rebuild places the new refcount structures after everything the old ones might own (QEMU 7.2 can collide with them and
/// mark the image corrupt), and the dirty and corrupt bits are cleared only when the image really is consistent.
/// </summary>
internal sealed class ImageCheck
{
    private readonly IImageStorage storage;
    private readonly ImageMetadata image;
    private readonly Qcow2CheckOptions options;
    private readonly int clusterBits;
    private readonly int clusterSize;
    private readonly int refcountOrder;
    private readonly bool extendedL2;
    private readonly bool hasDataFile;
    private readonly L1L2Geometry geometry;
    private readonly ClusterClassifier classifier;
    private readonly long refcountsPerBlock;
    private readonly List<Qcow2CheckFinding> findings = [];
    private CheckCounters counters;
    private ulong[] refcountTable = [];
    private InMemoryRefcounts computed = null!;
    private bool rebuild;
    private long highestCluster;
    /// <summary>The end of the furthest range the metadata claims one cluster or more past the end of the file, where QEMU counts nothing.</summary>
    private long claimedEnd;

    /// <summary>The active L1 table as the walk read it (empty when the header says it has no entries).</summary>
    private ulong[] activeL1 = [];
    private readonly Dictionary<long, ulong> unfixedOnDisk = [];

    private ImageCheck(IImageStorage storage, ImageMetadata image, Qcow2CheckOptions options)
    {
        this.storage = storage;
        this.image = image;
        this.options = options;
        clusterBits = image.ClusterBits;
        clusterSize = image.ClusterSize;
        refcountOrder = (int)image.Header.RefcountOrder;
        extendedL2 = image.ExtendedL2;
        hasDataFile = image.HasExternalDataFile;
        geometry = image.Geometry;
        classifier = image.Classifier;
        refcountsPerBlock = Refcounts.EntriesPerBlock(clusterBits, refcountOrder);
    }

    private Qcow2CheckRepair Fix => options.Repair;

    /// <summary>Runs a check as <c>qemu-img check [-r …]</c> does, including the second pass after a repair.</summary>
    public static Qcow2CheckResult Run(IImageStorage storage, ImageMetadata image, Action rewriteHeader, Qcow2CheckOptions options)
    {
        if (options.Repair != Qcow2CheckRepair.None && !storage.CanWrite)
            throw new InvalidOperationException("A repair needs the image opened writable.");

        var first = new ImageCheck(storage, image, options);
        first.Execute(rewriteHeader);
        if (first.Failure is not null || (first.counters.LeaksFixed == 0 && first.counters.CorruptionsFixed == 0))
            return first.Result([], first.counters.LeaksFixed, first.counters.CorruptionsFixed);

        var second = new ImageCheck(storage, image, new Qcow2CheckOptions { Progress = options.Progress, CancellationToken = options.CancellationToken });
        second.Execute(rewriteHeader);
        return second.Result(first.findings, first.counters.LeaksFixed, first.counters.CorruptionsFixed);
    }

    /// <summary>Why the check itself failed (QEMU: "Check failed: …"), or null.</summary>
    private string? Failure { get; set; }

    private Qcow2CheckResult Result(IReadOnlyList<Qcow2CheckFinding> repairFindings, long leaksFixed, long corruptionsFixed) =>
        new(counters, findings, repairFindings, leaksFixed, corruptionsFixed, Failure);

    private void Execute(Action rewriteHeader)
    {
        var fileClusters = ClustersFor(storage.Length);
        counters.TotalClusters = (long)Align.DivideRoundUp(image.VirtualSize, (ulong)clusterSize);
        LoadRefcountTable();

        try
        {
            CalculateRefcounts(fix: Fix, fileClusters);
            var beforeCompare = counters;
            CompareRefcounts(Qcow2CheckRepair.None);

            if (rebuild && Fix == Qcow2CheckRepair.All)
            {
                var old = counters;
                findings.Add(new Qcow2CheckFinding(Qcow2CheckFindingKind.RefcountRebuild, "Rebuilding refcount structure"));
                RebuildRefcountStructure();
                counters.Corruptions = 0;
                counters.Leaks = 0;
                rebuild = false;
                CalculateRefcounts(fix: Qcow2CheckRepair.None, ClustersFor(storage.Length));

                // The old structures are leaks now; fixing them is part of the rebuild, not something to report.
                var saved = counters;
                counters = default;
                CompareRefcounts(Qcow2CheckRepair.Leaks);
                if (rebuild)
                    findings.Add(new Qcow2CheckFinding(Qcow2CheckFindingKind.RefcountRebuild, "ERROR rebuilt refcount structure is still broken"));
                var freshLeaks = counters.Leaks;
                counters = saved;
                if (counters.Corruptions < old.Corruptions)
                    counters.CorruptionsFixed += old.Corruptions - counters.Corruptions;
                if (counters.Leaks < old.Leaks)
                    counters.LeaksFixed += old.Leaks - counters.Leaks;
                counters.Leaks += freshLeaks;
            }
            else if (Fix != Qcow2CheckRepair.None)
            {
                if (rebuild)
                {
                    findings.Add(new Qcow2CheckFinding(Qcow2CheckFindingKind.RefcountRebuild, "ERROR need to rebuild refcount structures"));
                    counters.CheckErrors++;
                    Failure = "Input/output error";
                    return;
                }
                if (counters.Leaks > 0 || counters.Corruptions > 0)
                {
                    // Compare again, this time repairing; the first comparison only counted (its lines stay, as in qemu-img's output).
                    counters = beforeCompare;
                    CompareRefcounts(Fix);
                }
            }

            CheckCopiedFlags();
            counters.ImageEndOffset = (highestCluster + 1) * clusterSize;
        }
        catch (CheckFailedException e)
        {
            Failure = e.Message;
            return;
        }

        if (Fix != Qcow2CheckRepair.None)
            storage.Flush();
        if (Fix != Qcow2CheckRepair.None && counters.CheckErrors == 0 && counters.Corruptions == 0
            && (image.Header.IncompatibleFeatures & (Features.Dirty | Features.Corrupt)) != 0)
        {
            image.Header.IncompatibleFeatures &= ~(Features.Dirty | Features.Corrupt);
            rewriteHeader();
        }
    }

    private void LoadRefcountTable()
    {
        // Open already bounded this to 8 MiB.
        var entries = (int)((long)image.Header.RefcountTableClusters * clusterSize / sizeof(ulong));
        refcountTable = entries == 0 ? [] : EntryTable.Read(storage, (long)image.Header.RefcountTableOffset, entries);
    }

    // ---- Counting references (calculate_refcounts) ----

    private void CalculateRefcounts(Qcow2CheckRepair fix, long fileClusters)
    {
        computed = new InMemoryRefcounts(fileClusters, Refcounts.MaxRefcount(refcountOrder));
        var fileLength = storage.Length;

        Count(0, clusterSize, fileLength);
        CheckL1((long)image.Header.L1TableOffset, image.Header.L1Size, active: true, fix, fileLength, progressShare: 0.5);

        if (hasDataFile && image.Snapshots.Count > 0)
            Report(Qcow2CheckFindingKind.Snapshot, $"ERROR {image.Snapshots.Count} snapshots in image with data file");
        foreach (var snapshot in image.Snapshots)
        {
            var l1Offset = (ulong)snapshot.L1TableOffset;
            if (l1Offset % (ulong)clusterSize != 0)
            {
                Report(Qcow2CheckFindingKind.Snapshot, $"ERROR snapshot {snapshot.Id} ({snapshot.Name}) l1_offset={HexPrefixed(l1Offset)}: L1 table is not cluster aligned; snapshot table entry corrupted");
                continue;
            }
            if ((uint)snapshot.L1Size > Limits.MaxL1Entries)
            {
                Report(Qcow2CheckFindingKind.Snapshot, $"ERROR snapshot {snapshot.Id} ({snapshot.Name}) l1_size={HexPrefixed((ulong)snapshot.L1Size)}: L1 table is too large; snapshot table entry corrupted");
                continue;
            }
            CheckL1((long)l1Offset, (uint)snapshot.L1Size, active: false, fix, fileLength, progressShare: 0);
        }
        Count((long)image.Header.SnapshotsOffset, SnapshotTableSize(), fileLength);
        Count((long)image.Header.RefcountTableOffset, (long)refcountTable.Length * sizeof(ulong), fileLength);
        if (image.FullDiskEncryption is { } crypto && crypto.Length != 0)
            Count((long)crypto.Offset, (long)crypto.Length, fileLength);
        CountBitmaps(fix, fileLength);
        CheckRefcountBlocks(fix);
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
        findings.Add(new Qcow2CheckFinding(Qcow2CheckFindingKind.RefcountOverflow,
            "Use qemu-img amend to increase the refcount entry width or qemu-img convert to create a clean copy if the image cannot be opened for writing"));
    }

    private void CheckL1(long l1Offset, uint l1Size, bool active, Qcow2CheckRepair fix, long fileLength, double progressShare)
    {
        if (l1Size == 0)
            return;
        Count(l1Offset, (long)l1Size * sizeof(ulong), fileLength);
        if (l1Offset < 0 || (ulong)l1Offset > Addressable.MaxLength - (ulong)l1Size * sizeof(ulong))
        {
            // QEMU's read of the table fails with EIO, and with it the whole check.
            findings.Add(new Qcow2CheckFinding(Qcow2CheckFindingKind.CheckError, "ERROR: I/O error in check_refcounts_l1"));
            counters.CheckErrors++;
            throw new CheckFailedException("Input/output error");
        }
        var l1 = EntryTable.Read(storage, l1Offset, (int)l1Size);
        if (active)
            activeL1 = l1;

        var l2Offsets = new ulong[l1.Length];
        for (var i = 0; i < l1.Length; i++)
        {
            var offset = new L1Entry(l1[i]).L2Offset;
            l2Offsets[i] = offset % (ulong)clusterSize == 0 ? offset : 0;
        }

        using var reader = new ClusterRunReader(storage, clusterSize);
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
            if (l2Offset % (ulong)clusterSize != 0 || l2Offset == 0)
            {
                if (l2Offset % (ulong)clusterSize != 0)
                    Report(Qcow2CheckFindingKind.Unaligned, $"ERROR l2_offset={Hex(l2Offset)}: Table is not cluster aligned; L1 entry corrupted");
                unalignedTable ??= new byte[clusterSize];
                storage.Read((long)l2Offset, unalignedTable);
                table = unalignedTable;
            }
            else
            {
                table = reader.Get(l2Offsets, i);
            }
            CheckL2(table, (long)l2Offset, active, fix, fileLength);

            if (progressShare > 0 && (i & 255) == 0)
            {
                options.CancellationToken.ThrowIfCancellationRequested();
                options.Progress?.Report(progressShare * i / l1.Length);
            }
        }
    }

    private void CheckL2(Span<byte> table, long l2Offset, bool active, Qcow2CheckRepair fix, long fileLength)
    {
        ulong nextContiguous = 0;
        for (var i = 0; i < geometry.L2Entries; i++)
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
                    if (hasDataFile)
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
                    if (bitmap.IsCorrupt)
                        Report(Qcow2CheckFindingKind.Mapping, $"ERROR offset={Hex(offset)}: Allocated cluster has corrupted subcluster allocation bitmap");
                    if (offset % (ulong)clusterSize != 0)
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
                            findings.Add(new Qcow2CheckFinding(Qcow2CheckFindingKind.Unaligned, $"Repairing offset={Hex(offset)}: Preallocated cluster is not properly aligned; L2 entry corrupted.", Repaired: true));
                            counters.CorruptionsFixed++;
                            continue;
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
                    if (hasDataFile)
                        break;
                    if (offset % (ulong)clusterSize == 0 && (long)offset + clusterSize <= fileLength)
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
    }

    private void CountBitmaps(Qcow2CheckRepair fix, long fileLength)
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
                    throw new CheckFailedException("Invalid argument");
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
        findings.Add(new Qcow2CheckFinding(Qcow2CheckFindingKind.Mapping, string.Create(CultureInfo.InvariantCulture,
            $"Repairing bitmap '{bitmap.Name}': table entry {index} pointed past the end of the file (offset {HexPrefixed(entry.Offset)}); its bits there are lost, so the bitmap is now marked in use (inconsistent) and can only be removed"),
            Repaired: true));
        counters.CorruptionsFixed++;
    }

    /// <summary>QEMU's <c>check_refblocks</c>: the refcount blocks themselves.</summary>
    private void CheckRefcountBlocks(Qcow2CheckRepair fix)
    {
        for (var i = 0; i < refcountTable.Length; i++)
        {
            var entry = new RefcountTableEntry(refcountTable[i]);
            var offset = entry.BlockOffset;
            var cluster = (long)(offset >> clusterBits);
            if (entry.HasReservedBits)
            {
                Report(Qcow2CheckFindingKind.ReservedBits, $"ERROR refcount table entry {i} has reserved bits set");
                rebuild = true;
                continue;
            }
            if (offset % (ulong)clusterSize != 0)
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
                if (fix == Qcow2CheckRepair.All && offset <= (ulong)(storage.Length + Limits.MaxRepairGrowth - clusterSize) && (ulong)cluster < DescribableClusters)
                {
                    // Extending the file makes the block readable (as zeros); the rebuild or the comparison then fixes its counts.
                    findings.Add(new Qcow2CheckFinding(Qcow2CheckFindingKind.RefcountBlock, $"Repairing refcount block {i} is outside image", cluster, Repaired: true));
                    storage.SetLength((long)offset + clusterSize);
                    computed.EnsureCount(ClustersFor(storage.Length));
                    counters.CorruptionsFixed++;
                    Count((long)offset, clusterSize, storage.Length);
                }
                else if (fix == Qcow2CheckRepair.All)
                {
                    // QEMU's resize_fail: the rebuild places the block's counts somewhere reachable.
                    Report(Qcow2CheckFindingKind.RefcountBlock, $"Repairing refcount block {i} is outside image", cluster);
                    findings.Add(new Qcow2CheckFinding(Qcow2CheckFindingKind.RefcountBlock, "ERROR could not resize image: File too large", cluster));
                    rebuild = true;
                }
                else
                {
                    Report(Qcow2CheckFindingKind.RefcountBlock, $"ERROR refcount block {i} is outside image", cluster);
                }
                continue;
            }
            Count((long)offset, clusterSize, storage.Length);
            if (computed[cluster] != 1)
            {
                Report(Qcow2CheckFindingKind.RefcountBlock, $"ERROR refcount block {i} refcount={computed[cluster]}", cluster);
                rebuild = true;
            }
        }
    }

    // ---- Comparing with the refcounts on disk (compare_refcounts) ----

    private void CompareRefcounts(Qcow2CheckRepair fix)
    {
        highestCluster = 0;
        unfixedOnDisk.Clear();
        var clusters = computed.Count;
        var blocks = (clusters + refcountsPerBlock - 1) / refcountsPerBlock;
        var blockOffsets = new ulong[blocks];
        for (var r = 0; r < blocks && r < refcountTable.Length; r++)
        {
            var offset = new RefcountTableEntry(refcountTable[r]).BlockOffset;
            blockOffsets[r] = Readable(offset) ? offset : 0;
        }

        using var reader = new ClusterRunReader(storage, clusterSize);
        for (var r = 0; r < blocks; r++)
        {
            var first = r * refcountsPerBlock;
            var count = Math.Min(refcountsPerBlock, clusters - first);
            var offset = r < refcountTable.Length ? new RefcountTableEntry(refcountTable[r]).BlockOffset : 0;

            if (!Readable(offset))
            {
                // QEMU cannot read refcounts through an unaligned block, nor one past the largest readable offset: each
                // cluster it covers is an internal error.
                for (var cluster = first; cluster < first + count; cluster++)
                {
                    findings.Add(new Qcow2CheckFinding(Qcow2CheckFindingKind.CheckError, $"Can't get refcount for cluster {cluster}: Input/output error", cluster));
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
                changed |= CompareOne(fix, block, index, cluster, onDisk, references);
            }
            if (changed)
                reader.WriteBack((long)offset);

            if ((r & 63) == 0)
            {
                options.CancellationToken.ThrowIfCancellationRequested();
                options.Progress?.Report(0.5 + 0.4 * r / blocks);
            }
        }
    }

    /// <summary>Handles one mismatch; returns whether <paramref name="block"/> was changed.</summary>
    private bool CompareOne(Qcow2CheckRepair fix, Span<byte> block, long index, long cluster, ulong onDisk, ulong references)
    {
        var repair = onDisk != 0 && ((onDisk > references && fix != Qcow2CheckRepair.None) || (onDisk < references && fix == Qcow2CheckRepair.All));
        if (onDisk == 0)
            rebuild = true;
        var kind = onDisk > references ? Qcow2CheckFindingKind.Leak : onDisk == 0 ? Qcow2CheckFindingKind.RefcountZero : Qcow2CheckFindingKind.RefcountTooLow;
        var verb = repair ? "Repairing" : onDisk < references ? "ERROR" : "Leaked";
        findings.Add(new Qcow2CheckFinding(kind, $"{verb} cluster {cluster} refcount={onDisk} reference={references}", cluster, onDisk, references, repair));
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

    /// <summary>The refcount on disk after the comparison (and its repairs), without reading it again.</summary>
    private bool TryGetOnDiskRefcount(long cluster, out ulong refcount)
    {
        if (unfixedOnDisk.Count != 0 && unfixedOnDisk.TryGetValue(cluster, out refcount))
            return true;
        if (cluster < computed.Count)
        {
            var block = refcountTable.Length > cluster / refcountsPerBlock ? new RefcountTableEntry(refcountTable[cluster / refcountsPerBlock]).BlockOffset : 0;
            refcount = computed[cluster];
            return Readable(block);
        }
        return TryReadRefcount(cluster, out refcount);
    }

    /// <summary>QEMU's <c>qcow2_get_refcount</c>, straight from disk (for clusters past the computed range).</summary>
    private bool TryReadRefcount(long cluster, out ulong refcount)
    {
        refcount = 0;
        var index = cluster / refcountsPerBlock;
        if (index >= refcountTable.Length)
            return true;
        var offset = new RefcountTableEntry(refcountTable[index]).BlockOffset;
        if (offset == 0)
            return true;
        if (!Readable(offset))
            return false;
        var block = ArrayPool<byte>.Shared.Rent(clusterSize);
        try
        {
            storage.Read((long)offset, block.AsSpan(0, clusterSize));
            refcount = Refcounts.Get(block, cluster % refcountsPerBlock, refcountOrder);
            return true;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(block);
        }
    }

    // ---- COPIED flags (check_oflag_copied) ----

    private void CheckCopiedFlags()
    {
        var repair = Fix == Qcow2CheckRepair.All
            || (Fix == Qcow2CheckRepair.Leaks && counters.CheckErrors == 0 && counters.Corruptions == 0 && counters.Leaks == 0);
        var l1Offset = (long)image.Header.L1TableOffset;
        // The walk read the active L1 already, and nothing since has changed it.
        var l1 = activeL1;
        var l2Offsets = new ulong[l1.Length];
        for (var i = 0; i < l1.Length; i++)
            l2Offsets[i] = new L1Entry(l1[i]).L2Offset;
        using var reader = new ClusterRunReader(storage, clusterSize);
        Span<byte> l1Entry8 = stackalloc byte[sizeof(ulong)];
        {
            for (var i = 0; i < l1.Length; i++)
            {
                var l1Entry = new L1Entry(l1[i]);
                var l2Offset = l1Entry.L2Offset;
                if (l2Offset == 0)
                    continue;
                if (!TryGetOnDiskRefcount((long)(l2Offset >> clusterBits), out var l2Refcount))
                    continue;
                if ((l2Refcount == 1) != l1Entry.Copied)
                {
                    ReportCopied($"OFLAG_COPIED L2 cluster: l1_index={i} l1_entry={Hex(l1Entry.Value)} refcount={l2Refcount}", repair);
                    if (repair)
                    {
                        BinaryPrimitives.WriteUInt64BigEndian(l1Entry8, l1Entry.WithCopied(l2Refcount == 1).Value);
                        storage.Write(l1Offset + (long)i * sizeof(ulong), l1Entry8);
                    }
                }

                // An unaligned table was reported by the walk; QEMU reads it all the same.
                var span = l2Offset % (ulong)clusterSize == 0 ? reader.Get(l2Offsets, i) : ReadUnaligned((long)l2Offset);
                var dirty = false;
                for (var j = 0; j < geometry.L2Entries; j++)
                {
                    var entry = geometry.ReadEntry(span, j);
                    if (!ClusterClassifier.HasHostCluster(classifier.Classify(entry)))
                        continue;
                    ulong refcount = 1;
                    if (!hasDataFile && !TryGetOnDiskRefcount((long)((entry.Value & L2Entry.OffsetMask) >> clusterBits), out refcount))
                        continue;
                    if ((refcount == 1) == entry.Copied)
                        continue;
                    ReportCopied($"OFLAG_COPIED data cluster: l2_entry={Hex(entry.Value)} refcount={refcount}", repair);
                    if (repair)
                    {
                        geometry.WriteEntry(span, j, entry.WithCopied(refcount == 1));
                        dirty = true;
                    }
                }
                if (dirty)
                    storage.Write((long)l2Offset, span);
            }
        }
    }

    private byte[] ReadUnaligned(long offset)
    {
        var table = new byte[clusterSize];
        storage.Read(offset, table);
        return table;
    }

    private void ReportCopied(string what, bool repair)
    {
        findings.Add(new Qcow2CheckFinding(Qcow2CheckFindingKind.CopiedFlag, (repair ? "Repairing " : "ERROR ") + what, Repaired: repair));
        if (repair)
            counters.CorruptionsFixed++;
        else
            counters.Corruptions++;
    }

    // ---- Rebuilding the refcount structures (rebuild_refcount_structure) ----

    /// <summary>
    /// Writes a new refcount table and blocks that describe exactly the computed refcounts (and themselves), then switches the
    /// header to them with one 12-byte write. Everything new goes after the end of the file and after every cluster the old
    /// table points at, so no old structure, however broken, can overlap it. A crash before the switch leaves the old
    /// structures in force; after it, the old ones are merely leaked.
    /// </summary>
    private void RebuildRefcountStructure()
    {
        // After the end of the file, and after every counted cluster: a range counted although it ends (by less than a cluster)
        // past the end of the file, as QEMU counts it, so that the grown file has it inside with its refcount.
        var start = Math.Max(ClustersFor(storage.Length), computed.Count);
        foreach (var value in refcountTable)
        {
            var offset = new RefcountTableEntry(value).BlockOffset;
            // Past the end of the file there is nothing to overlap (a block outside the image was either moved inside by
            // growing the file, or could not be), and a hostile offset there would put the new structures out of reach.
            if (offset != 0 && offset < (ulong)storage.Length)
                start = Math.Max(start, (long)(offset >> clusterBits) + 1);
        }

        // Metadata that claims uncounted clusters past the end of the file (a table longer than the file) must not be grown
        // over: the new structures would be read as that metadata, and the claimed clusters would count with refcount 0. Leave
        // such an image as it is rather than make it worse.
        if (ClustersFor(claimedEnd) > ClustersFor(storage.Length))
            throw new CheckFailedException($"File too large: the metadata claims clusters up to {ClustersFor(claimedEnd)}, past the end of the file, where rebuilt refcount structures would land");
        if ((ulong)start / (ulong)refcountsPerBlock >= (ulong)Limits.MaxRefcountTableBytes / sizeof(ulong))
            throw new CheckFailedException($"File too large: a refcount table reaching cluster {start} would be larger than {Limits.MaxRefcountTableBytes} bytes");

        // The new table and blocks must count themselves; every index with a counted cluster gets a new block.
        var plan = RefcountBlockPlanner.Plan(start, 0, refcountsPerBlock, clusterSize, hasBlock: _ => false, newTable: true,
            neededElsewhere: index => computed.AnyInRange(index * refcountsPerBlock, refcountsPerBlock));
        if (plan.TableClusters * clusterSize > Limits.MaxRefcountTableBytes)
            throw new CheckFailedException($"File too large: the rebuilt refcount table would need {plan.TableClusters} clusters, more than {Limits.MaxRefcountTableBytes} bytes");

        for (var c = plan.Start; c < plan.End; c++)
            computed.Set(c, 1);
        var newTable = new ulong[plan.TableClusters * clusterSize / sizeof(ulong)];
        var blocks = new byte[plan.NewBlocks.Count * clusterSize];
        for (var b = 0; b < plan.NewBlocks.Count; b++)
        {
            var r = plan.NewBlocks[b];
            var block = blocks.AsSpan(b * clusterSize, clusterSize);
            var first = r * refcountsPerBlock;
            for (long index = 0; index < refcountsPerBlock && first + index < computed.Count; index++)
            {
                var value = computed[first + index];
                if (value != 0)
                    Refcounts.Set(block, index, refcountOrder, value);
            }
            newTable[r] = (ulong)((plan.BlocksStart + b) * clusterSize);
        }

        var tableOffset = plan.TableStart * clusterSize;
        storage.Write(plan.BlocksStart * clusterSize, blocks);
        EntryTable.Write(storage, tableOffset, newTable);
        storage.Flush();

        HeaderFieldUpdates.SwitchRefcountTable(storage, image, tableOffset, (uint)plan.TableClusters);
        LoadRefcountTable();
    }

    // ---- Helpers ----

    private long SnapshotTableSize()
    {
        long size = 0;
        foreach (var snapshot in image.Snapshots)
        {
            size = Align.Up8(size);
            size += SnapshotTableEntryHeader.Size + snapshot.Entry.ExtraDataSize + snapshot.Entry.IdSize + snapshot.Entry.NameSize;
        }
        return size;
    }

    /// <summary>Whether QEMU can read a refcount block at <paramref name="offset"/>: cluster-aligned and below BDRV_MAX_LENGTH.</summary>
    private bool Readable(ulong offset) => offset % (ulong)clusterSize == 0 && offset <= Addressable.MaxLength - (ulong)clusterSize;

    /// <summary>The clusters the refcount table can describe (at most 2^20 entries × 2^24 refcounts per block).</summary>
    private ulong DescribableClusters => (ulong)refcountTable.Length * (ulong)refcountsPerBlock;

    private long ClustersFor(long bytes) => (bytes + clusterSize - 1) >> clusterBits;

    private void Report(Qcow2CheckFindingKind kind, string message, long? cluster = null)
    {
        findings.Add(new Qcow2CheckFinding(kind, message, cluster));
        counters.Corruptions++;
    }

    private static string Hex(ulong value) => value.ToString("x", CultureInfo.InvariantCulture);

    private static string HexPrefixed(ulong value) => "0x" + Hex(value);

    private sealed class CheckFailedException(string message) : Exception(message);
}
