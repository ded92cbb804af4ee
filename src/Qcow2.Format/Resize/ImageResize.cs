namespace Qcow2;

/// <summary>
/// The table work of a resize (spec §7), ordered for crash safety: whatever is linked is allocated and written (and flushed)
/// before the link is written; whatever is unlinked is unlinked (and flushed) before its refcount drops. A crash between
/// any two writes therefore leaves at worst leaked clusters. The size itself is written by the caller
/// (<see cref="Qcow2Image.Resize"/>): last when growing, first when shrinking.
/// </summary>
internal sealed class ImageResize
{
    private const int ZeroChunk = 1 << 20;

    private readonly IImageStorage storage;
    private readonly ImageMetadata image;
    private readonly ClusterAllocator allocator;
    private readonly int clusterBits;
    private readonly long clusterSize;
    private readonly bool extendedL2;
    private readonly L1L2Geometry geometry;
    private readonly long l2Entries;
    private ulong[] l1;

    public ImageResize(IImageStorage storage, ImageMetadata image)
    {
        this.storage = storage;
        this.image = image;
        allocator = new ClusterAllocator(storage, image);
        clusterBits = image.ClusterBits;
        clusterSize = image.ClusterSize;
        extendedL2 = image.ExtendedL2;
        geometry = image.Geometry;
        l2Entries = geometry.L2Entries;
        // Open bounded l1_size to 4 Mi entries.
        l1 = image.Header.L1Size == 0 ? [] : EntryTable.Read(storage, (long)image.Header.L1TableOffset, (int)image.Header.L1Size);
    }

    private bool Encrypted => image.Header.CryptMethod != 0;

    /// <summary>The first guest cluster that lies wholly at or past <paramref name="size"/>.</summary>
    public long FirstClusterPast(ulong size) => (long)Align.DivideRoundUp(size, (ulong)clusterSize);

    /// <summary>
    /// Everything a grow does before the new size is written: unmap stale clusters past the old end (a crash in the middle of
    /// a shrink, or another tool, may have left some), zero the unused tail of the old last cluster (QEMU 7.2 does not: after
    /// its shrink to a size that is not cluster-aligned and a grow, the old bytes reappear), grow the L1 table, preallocate.
    /// </summary>
    public void PrepareGrow(ulong oldSize, ulong newSize, Qcow2Preallocation preallocation)
    {
        DiscardFrom(FirstClusterPast(oldSize));
        ZeroTail(oldSize);
        GrowL1(newSize);
        if (preallocation == Qcow2Preallocation.Metadata)
            Preallocate(oldSize, newSize);
        if (image.BackingFileName is not null)
            MarkNewAreaZero(oldSize, newSize);
        storage.Flush();
    }

    /// <summary>
    /// Whether a grow of an image with a backing file can keep the backing file's data from showing through past the old end
    /// without reading the backing file: needs v3 (zero clusters), and the cluster holding the old end, when only partly inside
    /// the image, must be one whose tail <see cref="ZeroTail"/> zeroes (or that reads as zeros already). Returns why not, or null.
    /// </summary>
    public string? WhyBackingGrowIsUnsafe(ulong oldSize)
    {
        if (image.Header.Version < 3)
            return "a v2 image cannot mark the new area as zero clusters";
        var within = oldSize % (ulong)clusterSize;
        if (within == 0)
            return null;
        var cluster = (long)(oldSize / (ulong)clusterSize);
        var index = cluster / l2Entries;
        var l2Offset = index < l1.Length ? (long)new L1Entry(l1[index]).L2Offset : 0;
        var entry = new L2Entry(0);
        if (l2Offset != 0)
        {
            Span<byte> raw = stackalloc byte[sizeof(ulong)];
            storage.Read(l2Offset + (cluster % l2Entries << geometry.L2EntryBits), raw);
            entry = geometry.ReadEntry(raw, 0);
        }
        var type = image.Classifier.Classify(entry);
        if (extendedL2)
            return Unsafe;
        if (type is ClusterType.ZeroPlain or ClusterType.ZeroAllocated)
            return null; // reads as zeros
        if (!Encrypted && (type == ClusterType.Normal || (type == ClusterType.Compressed && image.Header.CompressionType == (byte)Qcow2CompressionType.Zlib)))
            return null; // fully allocated: ZeroTail zeroes its tail
        return Unsafe;
    }

    private const string Unsafe =
        "the last cluster is only partly inside the image and reads from the backing file, so its tail cannot be zeroed without it (QEMU copies the backing file's data into it)";


    /// <summary>
    /// For an image with a backing file: marks every still unallocated cluster of the new area as reading zeros (standard
    /// entries: the zero flag; extended: every subcluster's zero bit), as QEMU does when the backing file is longer than the
    /// image, since we never open it to tell. Tables are written before they are linked; shared ones are copied (<see cref="ReplaceTable"/>).
    /// </summary>
    private void MarkNewAreaZero(ulong oldSize, ulong newSize)
    {
        var first = FirstClusterPast(oldSize);
        var end = FirstClusterPast(newSize);
        for (var index = first / l2Entries; index * l2Entries < end; index++)
        {
            var lo = Math.Max(first, index * l2Entries);
            var hi = Math.Min(end, (index + 1) * l2Entries);
            var l2Offset = (long)new L1Entry(l1[index]).L2Offset;
            var table = l2Offset != 0 ? ReadCluster(l2Offset) : new byte[clusterSize];
            var changed = false;
            for (var cluster = lo; cluster < hi; cluster++)
            {
                var at = cluster - index * l2Entries;
                if (geometry.ReadEntry(table, at).Value != 0)
                    continue;
                if (extendedL2)
                    geometry.WriteBitmap(table, at, L2Bitmap.AllZero);
                else
                    geometry.WriteEntry(table, at, new L2Entry(L2Entry.ZeroFlag));
                changed = true;
            }
            if (!changed)
                continue;
            if (l2Offset != 0)
                ReplaceTable(index, table);
            else
                LinkNewTable(index, table);
        }
    }

    /// <summary>
    /// Replaces the contents of the active L2 table at L1 <paramref name="index"/> with <paramref name="table"/>, then drops
    /// the references of the entries that changed (their old data clusters; new entries' clusters were allocated by the caller).
    /// A table of refcount 1 is rewritten in place with one write. A table shared with an internal snapshot is copied: the new
    /// table is written to a new cluster and linked (L1 entry with COPIED) before the old table loses the active L1's
    /// reference. Unchanged entries keep their refcounts (the new table gains what the old loses), as qemu-img check counts
    /// every cluster once per L1 that reaches it. A crash at any point leaves at worst leaks.
    /// </summary>
    private void ReplaceTable(long index, byte[] table)
    {
        var frees = new List<long>();
        SwitchTable(index, table, frees);
        if (frees.Count > 0)
        {
            allocator.Free(frees, releaseSpace: true);
            storage.Flush();
        }
    }

    /// <summary>
    /// <see cref="ReplaceTable"/> up to the switch: the references it drops are added to <paramref name="frees"/>, for the
    /// caller to free (after the switch) together with others, so that each refcount block is written once.
    /// </summary>
    private void SwitchTable(long index, byte[] table, List<long> frees)
    {
        var l2Offset = (long)new L1Entry(l1[index]).L2Offset;
        var old = ReadCluster(l2Offset);
        for (var i = 0; i < l2Entries; i++)
        {
            var entry = geometry.EntryRange(i);
            if (!old.AsSpan(entry).SequenceEqual(table.AsSpan(entry)))
                image.Classifier.AddReferencedClusters(geometry.ReadEntry(old, i), clusterBits, frees);
        }
        if (allocator.Get(l2Offset >> clusterBits) == 1)
        {
            storage.Write(l2Offset, table);
            storage.Flush();
        }
        else
        {
            LinkNewTable(index, table);
            frees.Add(l2Offset >> clusterBits);
        }
    }

    /// <summary>Allocates a cluster for a new L2 table, writes and flushes it, then links it into the L1 (one 8-byte write) and flushes.</summary>
    private void LinkNewTable(long index, byte[] table)
    {
        var l2Offset = allocator.Allocate(1);
        storage.Write(l2Offset, table);
        storage.Flush();
        l1[index] = (ulong)l2Offset | L1Entry.CopiedFlag;
        WriteL1Entries(index, 1);
        storage.Flush();
    }

    /// <summary>Writes <paramref name="count"/> entries of the in-memory L1 from <paramref name="first"/> with one write.</summary>
    private void WriteL1Entries(long first, long count) =>
        EntryTable.Write(storage, (long)image.Header.L1TableOffset + first * sizeof(ulong), l1.AsSpan((int)first, (int)count));

    /// <summary>Everything a shrink does after the new size is written: zero the tail of the new last cluster and unmap what lies past it.</summary>
    public void FinishShrink(ulong newSize)
    {
        ZeroTail(newSize);
        DiscardFrom(FirstClusterPast(newSize));
        storage.Flush();
    }

    /// <summary>
    /// Drops the refcount blocks that no longer describe a used cluster, then truncates the file after the last cluster that
    /// still has a refcount (only ever shortens it).
    /// </summary>
    public static void TrimFile(IImageStorage storage, ImageMetadata image)
    {
        var allocator = new ClusterAllocator(storage, image);
        allocator.DropEmptyBlocks();
        var end = allocator.UsedEnd();
        if (end > 0 && end < storage.Length)
        {
            storage.SetLength(end);
            storage.Flush();
        }
    }

    /// <summary>
    /// Unmaps every guest cluster from <paramref name="firstCluster"/> on: clears the L2 entries of the table that holds it,
    /// zeroes the L1 entries of the tables wholly past it (l1_size stays, as in QEMU), then drops the references, all in one
    /// <see cref="ClusterAllocator.Free"/>: each refcount block is written once, and the tables are walked in file order
    /// through one buffer rather than held, with their references, in memory.
    /// </summary>
    private void DiscardFrom(long firstCluster)
    {
        var frees = new List<long>();
        var index = firstCluster / l2Entries;
        var within = (int)(firstCluster % l2Entries);
        if (within != 0)
        {
            if (index < l1.Length && new L1Entry(l1[index]).L2Offset is var l2Offset and not 0)
            {
                var table = ReadCluster((long)l2Offset);
                var start = within << geometry.L2EntryBits;
                if (table.AsSpan(start).IndexOfAnyExcept((byte)0) >= 0)
                {
                    table.AsSpan(start).Clear();
                    SwitchTable(index, table, frees);
                }
            }
            index++;
        }

        long firstSet = -1, lastSet = -1;
        var tables = new List<long>();
        for (var i = index; i < l1.Length; i++)
        {
            if (l1[i] == 0)
                continue;
            if (firstSet < 0)
                firstSet = i;
            lastSet = i;
            if (new L1Entry(l1[i]).L2Offset is var offset and not 0)
                tables.Add((long)offset);
        }
        if (firstSet >= 0)
        {
            storage.Write((long)image.Header.L1TableOffset + firstSet * sizeof(ulong), new byte[(lastSet - firstSet + 1) * sizeof(ulong)]);
            storage.Flush();
            Array.Clear(l1, (int)firstSet, (int)(lastSet - firstSet + 1));
        }
        if (frees.Count > 0 || tables.Count > 0)
        {
            allocator.Free(frees.Concat(ReferencesOf(tables)), releaseSpace: true);
            storage.Flush();
        }
    }

    /// <summary>
    /// The tables' own clusters and every cluster their entries reference, read in file order through one buffer. A table
    /// shared with a snapshot loses the active L1's reference, and so do its data clusters (each L1 that reaches a table
    /// counts once for every cluster in it, as qemu-img check counts).
    /// </summary>
    private IEnumerable<long> ReferencesOf(List<long> tables)
    {
        tables.Sort();
        var table = new byte[clusterSize];
        var referenced = new List<long>();
        foreach (var offset in tables)
        {
            storage.Read(offset, table);
            referenced.Clear();
            for (var i = 0; i < l2Entries; i++)
                image.Classifier.AddReferencedClusters(geometry.ReadEntry(table, i), clusterBits, referenced);
            foreach (var cluster in referenced)
                yield return cluster;
            yield return offset >> clusterBits;
        }
    }

    /// <summary>
    /// Makes the bytes of the cluster holding guest offset <paramref name="size"/> read as zeros from there to the cluster end,
    /// so that a later grow never shows old data there (QEMU 7.2 leaves them). An unencrypted data cluster whose L2 table
    /// and data have refcount 1 is zeroed in place. A cluster shared with a snapshot, or compressed with zlib, is copied:
    /// its guest bytes (decompressed) with a zeroed tail go to a new cluster, written and flushed before the entry is switched
    /// (<see cref="ReplaceTable"/>, which also copies a shared L2 table). Encrypted and zstd-compressed clusters are left as
    /// they are (this library has no cipher and no zstd).
    /// </summary>
    private void ZeroTail(ulong size)
    {
        var within = (int)(size % (ulong)clusterSize);
        if (within == 0 || Encrypted)
            return;
        var cluster = (long)(size / (ulong)clusterSize);
        var index = cluster / l2Entries;
        if (index >= l1.Length || (long)new L1Entry(l1[index]).L2Offset is not (var l2Offset and not 0))
            return;
        var table = ReadCluster(l2Offset);
        var at = cluster % l2Entries;
        var entry = geometry.ReadEntry(table, at);
        var compressed = entry.Compressed;
        var host = (long)entry.HostOffset;
        if (!compressed && host == 0)
            return; // unallocated or zero: nothing stored
        if (!compressed && allocator.Get(l2Offset >> clusterBits) == 1 && allocator.Get(host >> clusterBits) == 1)
        {
            storage.Write(host + within, new byte[clusterSize - within]);
            storage.Flush();
            return;
        }

        var data = new byte[clusterSize];
        if (compressed)
        {
            if (!TryDecompress(entry, data))
                return;
        }
        else
            storage.Read(host, data);
        if (data.AsSpan(within).IndexOfAnyExcept((byte)0) < 0)
            return; // the tail is zero already
        data.AsSpan(within).Clear();
        var copy = allocator.Allocate(1);
        storage.Write(copy, data);
        storage.Flush();
        geometry.WriteEntry(table, at, new L2Entry((ulong)copy | L2Entry.CopiedFlag));
        if (extendedL2 && compressed)
            geometry.WriteBitmap(table, at, L2Bitmap.AllAllocated);
        ReplaceTable(index, table);
    }

    /// <summary>Inflates a zlib-compressed cluster (raw deflate, as QEMU writes it). False for zstd or damaged data.</summary>
    private bool TryDecompress(L2Entry entry, byte[] cluster)
    {
        if (image.Header.CompressionType != (byte)Qcow2CompressionType.Zlib)
            return false;
        var (offset, length) = entry.CompressedRange(clusterBits);
        var compressed = new byte[length];
        storage.Read(offset, compressed);
        try
        {
            using var inflate = new System.IO.Compression.DeflateStream(new MemoryStream(compressed), System.IO.Compression.CompressionMode.Decompress);
            return inflate.ReadAtLeast(cluster, cluster.Length, throwOnEndOfStream: false) == cluster.Length;
        }
        catch (InvalidDataException)
        {
            return false;
        }
    }

    /// <summary>
    /// QEMU's L1 growth: a new table of exactly the needed size, written and flushed, then header bytes 36-47 (l1_size and
    /// l1_table_offset) switched with one 12-byte write and flushed, then the old table freed.
    /// </summary>
    private void GrowL1(ulong newSize)
    {
        var required = new L1L2Geometry(clusterBits, extendedL2).RequiredL1Entries(newSize);
        if (required <= (ulong)l1.Length)
            return;
        var bytes = (long)required * sizeof(ulong);
        var clusters = (bytes + clusterSize - 1) >> clusterBits;
        var offset = allocator.Allocate(clusters);
        var grown = new ulong[required];
        l1.CopyTo(grown, 0);
        EntryTable.Write(storage, offset, grown);
        storage.Flush();

        var oldOffset = (long)image.Header.L1TableOffset;
        var oldSize = l1.Length;
        HeaderFieldUpdates.SwitchL1Table(storage, image, (uint)required, offset);
        Array.Resize(ref l1, (int)required);
        if (oldSize > 0 && oldOffset != 0)
        {
            allocator.Free(allocator.Clusters(oldOffset, ((long)oldSize * sizeof(ulong) + clusterSize - 1) >> clusterBits));
            storage.Flush();
        }
    }

    /// <summary>
    /// <c>--preallocation=metadata</c> as QEMU 7.2 does it: every unallocated cluster from the old last one to the new end gets
    /// a zeroed data cluster and a normal COPIED entry, and the file is extended over them. Everything is allocated as one run
    /// first (each refcount block written once, and flushed), laid out as QEMU lays it out: each new L2 table followed by its
    /// data clusters. Then the tables are written through one buffer and flushed, and last the L1 entries of the new tables
    /// are written with one write. Only the table holding the old end can exist already (<see cref="DiscardFrom"/> cleared
    /// the others); it is filled in place, or copied when a snapshot shares it (<see cref="ReplaceTable"/>).
    /// </summary>
    private void Preallocate(ulong oldSize, ulong newSize)
    {
        var first = (long)(oldSize / (ulong)clusterSize);
        var end = FirstClusterPast(newSize);
        if (first >= end)
            return;
        var firstIndex = first / l2Entries;
        var endIndex = (end + l2Entries - 1) / l2Entries;
        var existingOffset = (long)new L1Entry(l1[firstIndex]).L2Offset;
        var existing = existingOffset != 0 ? ReadCluster(existingOffset) : null;
        var existingEnd = Math.Min(end, (firstIndex + 1) * l2Entries);
        var existingNeeds = 0L;
        for (var cluster = first; existing is not null && cluster < existingEnd; cluster++)
        {
            if (geometry.ReadEntry(existing, cluster - firstIndex * l2Entries).Value == 0)
                existingNeeds++;
        }
        var firstNewIndex = existing is null ? firstIndex : firstIndex + 1;
        var newTables = endIndex - firstNewIndex;
        var newData = newTables > 0 ? end - Math.Max(first, firstNewIndex * l2Entries) : 0;
        var total = existingNeeds + newTables + newData;
        if (total == 0)
            return;

        var lengthBefore = storage.Length;
        var run = allocator.Allocate(total);
        var runEnd = run + total * clusterSize;
        // A run that reuses free clusters inside the file must read as zeros; past the end, extending the file is enough.
        if (run < lengthBefore)
        {
            var zeros = new byte[Math.Min(ZeroChunk, Math.Min(runEnd, lengthBefore) - run)];
            for (var at = run; at < Math.Min(runEnd, lengthBefore); at += zeros.Length)
                storage.Write(at, zeros.AsSpan(0, (int)Math.Min(zeros.Length, Math.Min(runEnd, lengthBefore) - at)));
        }
        if (storage.Length < runEnd)
            storage.SetLength(runEnd);
        storage.Flush();

        var next = run;
        if (existing is not null)
        {
            for (var cluster = first; cluster < existingEnd; cluster++)
                FillEntry(existing, cluster - firstIndex * l2Entries, ref next);
            if (existingNeeds > 0)
                ReplaceTable(firstIndex, existing);
        }
        if (newTables == 0)
            return;
        var table = new byte[clusterSize];
        for (var index = firstNewIndex; index < endIndex; index++)
        {
            table.AsSpan().Clear();
            var tableOffset = next;
            next += clusterSize;
            for (var cluster = Math.Max(first, index * l2Entries); cluster < Math.Min(end, (index + 1) * l2Entries); cluster++)
                FillEntry(table, cluster - index * l2Entries, ref next);
            storage.Write(tableOffset, table);
            l1[index] = (ulong)tableOffset | L1Entry.CopiedFlag;
        }
        storage.Flush();
        WriteL1Entries(firstNewIndex, newTables);
        storage.Flush();
    }

    /// <summary>Points an unallocated entry at the next cluster of the preallocated run (normal, COPIED).</summary>
    private void FillEntry(byte[] table, long at, ref long next)
    {
        if (geometry.ReadEntry(table, at).Value != 0)
            return;
        geometry.WriteEntry(table, at, new L2Entry((ulong)next | L2Entry.CopiedFlag));
        // Allocate every subcluster that is not marked as reading zeros (both bits set would be corrupt).
        if (extendedL2)
            geometry.WriteBitmap(table, at, geometry.ReadBitmap(table, at).AllocateAllButZero());
        next += clusterSize;
    }

    private byte[] ReadCluster(long offset)
    {
        var buffer = new byte[clusterSize];
        storage.Read(offset, buffer);
        return buffer;
    }
}
