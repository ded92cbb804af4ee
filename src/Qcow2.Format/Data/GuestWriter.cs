using System.Buffers;
using System.Buffers.Binary;

namespace Qcow2;

/// <summary>
/// Changes guest data as QEMU 7.2 does (block/qcow2-cluster.c), one guest cluster at a time, in an order that a crash can
/// only turn into leaked clusters: a new cluster gets its refcount first (<see cref="ClusterAllocator"/> writes it through),
/// then its data, then the L2 entry that links it; a new L2 table is written before the L1 entry; what is unlinked is freed
/// last. A cluster is overwritten in place only when its entry has COPIED and its refcount is 1 (external data files have no
/// refcounts: COPIED alone); otherwise (shared with a snapshot, compressed, unallocated) the untouched part of the cluster is
/// copied from the old view (data, zeros or the backing file) into a new cluster. Not thread-safe: the image serializes.
/// </summary>
internal sealed class GuestWriter
{
    private readonly IImageStorage storage;
    private readonly ImageMetadata image;
    private readonly GuestDisk disk;
    private readonly GuestMap map;
    private readonly ClusterAllocator allocator;
    private readonly MetadataClusters metadata;
    private readonly int clusterBits;
    private readonly int clusterSize;
    private readonly long clusterMask;
    private readonly byte[] cluster;
    private long compressedFree;

    public GuestWriter(IImageStorage storage, ImageMetadata image, GuestDisk disk)
    {
        this.storage = storage;
        this.image = image;
        this.disk = disk;
        map = disk.Map;
        // Open accepts an L1 table past the end of the file (QEMU reads zeros there); linking a table through it would write there.
        if (image.Header.L1TableOffset + (ulong)image.Header.L1Size * sizeof(ulong) > (ulong)storage.Length)
            throw new Qcow2FormatException("The active L1 table lies past the end of the file; repair the image first (qcow2 check -r all)",
                nameof(Qcow2Header) + ".L1TableOffset", "0x" + image.Header.L1TableOffset.ToString("X", System.Globalization.CultureInfo.InvariantCulture));
        allocator = new ClusterAllocator(storage, image);
        metadata = new MetadataClusters(storage, image, map.L1);
        clusterBits = map.ClusterBits;
        clusterSize = 1 << clusterBits;
        clusterMask = clusterSize - 1;
        cluster = new byte[clusterSize];
    }

    private bool Version3 => image.Header.Version >= 3;

    private int SubclusterShift => map.SubclusterBits;

    public void Write(long offset, ReadOnlySpan<byte> data)
    {
        while (data.Length > 0)
        {
            var count = WriteNewClusters(offset, data);
            if (count == 0)
            {
                count = (int)Math.Min(data.Length, clusterSize - (offset & clusterMask));
                WriteInCluster(offset, data[..count]);
            }
            offset += count;
            data = data[count..];
        }
        disk.ForgetDecompressed();
    }

    /// <summary>
    /// QEMU's <c>qcow2_co_pwrite_zeroes</c>: whole subclusters become zero clusters (or zero bits) without writing data, the
    /// partial subclusters at either end get zeros written; version 2 images have no zero clusters and get zeros written.
    /// With <paramref name="unmap"/> (QEMU's <c>BDRV_REQ_MAY_UNMAP</c>) whole clusters also free their host cluster.
    /// </summary>
    public void WriteZeroes(long offset, long length, bool unmap = false)
    {
        var subcluster = 1L << SubclusterShift;
        var end = offset + length;
        var alignedStart = (offset + subcluster - 1) & ~(subcluster - 1);
        // The partial subcluster at the end of the disk counts as whole, as in QEMU.
        var alignedEnd = end == disk.VirtualSize ? (end + subcluster - 1) & ~(subcluster - 1) : end & ~(subcluster - 1);
        if (!Version3 || alignedStart >= alignedEnd)
        {
            WriteZeroBuffer(offset, length);
            return;
        }
        WriteZeroBuffer(offset, alignedStart - offset);
        if ((image.Header.AutoclearFeatures & Features.RawExternalData) != 0)
            WriteZeroBuffer(alignedStart, Math.Min(alignedEnd, end) - alignedStart, dataFileOnly: true);
        for (var at = alignedStart; at < alignedEnd;)
        {
            var count = Math.Min(alignedEnd - at, clusterSize - (at & clusterMask));
            ZeroInCluster(at, count, unmap);
            at += count;
        }
        if (alignedEnd < end)
            WriteZeroBuffer(alignedEnd, end - alignedEnd);
        disk.ForgetDecompressed();
    }

    /// <summary>
    /// QEMU's <c>qcow2_co_pdiscard</c>: each whole cluster in the range (and a partial last cluster of the disk) reads as
    /// zeros afterwards (version 3) or falls through (version 2) and its host cluster is freed; partial clusters are left
    /// alone. A <paramref name="full"/> discard (QEMU's <c>qcow2_make_empty</c>) leaves every cluster unallocated, so that
    /// the backing file shows through.
    /// </summary>
    public void Discard(long offset, long length, bool full = false)
    {
        var end = offset + length;
        var first = (offset + clusterMask) & ~clusterMask;
        var last = end == disk.VirtualSize ? (end + clusterMask) & ~clusterMask : end & ~clusterMask;
        for (var at = first; at < last; at += clusterSize)
            DiscardCluster(at, full);
        disk.ForgetDecompressed();
    }

    /// <summary>
    /// QEMU's <c>qcow2_co_pwritev_compressed</c> for one whole cluster that holds nothing yet: the compressed bytes go right
    /// after the previous compressed cluster (<see cref="AllocateCompressedBytes"/>), then the L2 entry links them. Returns
    /// false, writing nothing, when the cluster holds data already (QEMU refuses those; the caller writes it uncompressed).
    /// </summary>
    public bool WriteCompressed(long offset, ReadOnlySpan<byte> compressed)
    {
        _ = map.Lookup(offset, 1); // refuses the entries QEMU refuses (unaligned, contradictory bitmaps)
        var (table, tableOffset) = WritableL2(offset);
        var index = L2Index(offset);
        var (entry, _) = Get(table, index);
        if (ClusterClassifier.HasHostCluster(map.Classifier.Classify(entry)) || entry.Compressed || map.ExternalData)
            return false;
        var host = AllocateCompressedBytes(compressed.Length);
        storage.Write(host, compressed);
        var sectors = (ulong)(((host + compressed.Length - 1) >> 9) - (host >> 9));
        SetEntry(table, tableOffset, index, new L2Entry((ulong)host | L2Entry.CompressedFlag | sectors << (62 - (clusterBits - 8))), 0);
        disk.ForgetDecompressed();
        return true;
    }

    /// <summary>
    /// QEMU's <c>qcow2_alloc_bytes</c>: compressed clusters are packed one after another; each host cluster they touch gets
    /// one reference per compressed cluster in it, and a run may continue into the next cluster only when that is the next
    /// one allocated.
    /// </summary>
    private long AllocateCompressedBytes(int size)
    {
        var offset = compressedFree;
        if (offset != 0 && allocator.Get(offset >> clusterBits) >= Refcounts.MaxRefcount((int)image.Header.RefcountOrder))
            offset = 0;
        if (offset == 0)
            offset = allocator.Allocate(1);
        else if (clusterSize - (offset & clusterMask) >= size)
            allocator.AddReferences([offset >> clusterBits]);
        else
        {
            var next = allocator.Allocate(1);
            if (next == (offset | clusterMask) + 1)
                allocator.AddReferences([offset >> clusterBits]);
            else
                offset = next;
        }
        compressedFree = ((offset + size) & clusterMask) == 0 ? 0 : offset + size;
        return offset;
    }

    public void Flush()
    {
        storage.Flush();
        if (map.ExternalData)
            disk.DataStorage.Flush();
    }

    /// <summary>
    /// Writes several ranges (not overlapping) as <see cref="Write(long, ReadOnlySpan{byte})"/> would one by one, but the whole
    /// clusters that have no host cluster yet, in all of them, get one allocation, one data write and one write per L2 table
    /// (in file order): a backup writes many small ranges spread over the disk, and per range that would cost a refcount-block
    /// write and an entry write each. The order stays refcounts, data, then L2 entries, so a crash leaves at worst leaks.
    /// </summary>
    public void WriteRanges(IReadOnlyList<(long Offset, ReadOnlyMemory<byte> Data)> ranges)
    {
        var runs = new List<(long Offset, ReadOnlyMemory<byte> Data)>();
        foreach (var (offset, data) in ranges)
        {
            for (var at = 0; at < data.Length;)
            {
                var count = NewClusterRun(offset + at, data.Length - at);
                if (count > 0)
                {
                    runs.Add((offset + at, data.Slice(at, count << clusterBits)));
                    at += count << clusterBits;
                    continue;
                }
                var length = (int)Math.Min(data.Length - at, clusterSize - ((offset + at) & clusterMask));
                WriteInCluster(offset + at, data.Span.Slice(at, length));
                at += length;
            }
        }
        if (runs.Count > 0)
            WriteNewClusters(runs);
        disk.ForgetDecompressed();
    }

    /// <summary>
    /// Whole clusters that have no host cluster yet (unallocated or plain zero), as many as follow one another in one L2 table:
    /// one allocation of a contiguous run (its refcount blocks written once), one data write, then one write of their L2
    /// entries, in the order of <see cref="WriteInCluster"/>. This is what a convert writes, cluster after cluster; per
    /// cluster it would cost a refcount-block write and an entry write each. Returns the bytes written, or 0 when no such
    /// cluster starts at <paramref name="offset"/> (the caller then writes one cluster its own way).
    /// </summary>
    private int WriteNewClusters(long offset, ReadOnlySpan<byte> data)
    {
        var count = NewClusterRun(offset, data.Length);
        if (count == 0)
            return 0;
        var (table, tableOffset) = WritableL2(offset);
        var host = allocator.Allocate(count);
        var length = count << clusterBits;
        storage.Write(host, data[..length]);
        var first = L2Index(offset);
        Link(table, first, count, host);
        WriteEntries(table, tableOffset, first, first + count);
        return length;
    }

    /// <summary>
    /// <see cref="WriteNewClusters(long, ReadOnlySpan{byte})"/> for several runs (each from <see cref="NewClusterRun"/>): their
    /// L2 tables made writable first, so that the data clusters, allocated together, follow one another in the file.
    /// </summary>
    private void WriteNewClusters(List<(long Offset, ReadOnlyMemory<byte> Data)> runs)
    {
        // Once per table: the cache may drop a table while others are loaded, and a second call would then read another
        // copy of it from the file, without the entries linked into the first.
        var writable = new Dictionary<long, (ulong[] Table, long Offset)>();
        var tables = runs.Select(r =>
        {
            var l1Index = r.Offset >> (clusterBits + map.L2Bits);
            if (!writable.TryGetValue(l1Index, out var table))
                writable[l1Index] = table = WritableL2(r.Offset);
            return table;
        }).ToList();
        var length = runs.Sum(r => r.Data.Length);
        var host = allocator.Allocate(length >> clusterBits);
        if (runs.Count == 1)
            storage.Write(host, runs[0].Data.Span);
        else
        {
            var buffer = ArrayPool<byte>.Shared.Rent(length);
            try
            {
                var at = 0;
                foreach (var (_, data) in runs)
                {
                    data.Span.CopyTo(buffer.AsSpan(at));
                    at += data.Length;
                }
                storage.Write(host, buffer.AsSpan(0, length));
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
        // A copy that flushes at the end (a backup) has the data on its way to the disk meanwhile.
        storage.StartWriteback(host, length);
        // Each table's changed entries, first to last, in one write.
        var changed = new SortedDictionary<long, (ulong[] Table, int First, int End)>();
        for (var i = 0; i < runs.Count; i++)
        {
            var (table, tableOffset) = tables[i];
            var (first, count) = (L2Index(runs[i].Offset), runs[i].Data.Length >> clusterBits);
            Link(table, first, count, host);
            host += runs[i].Data.Length;
            changed[tableOffset] = changed.TryGetValue(tableOffset, out var known)
                ? (table, Math.Min(known.First, first), Math.Max(known.End, first + count))
                : (table, first, first + count);
        }
        foreach (var (tableOffset, (table, first, end)) in changed)
            WriteEntries(table, tableOffset, first, end);
    }

    /// <summary>
    /// How many whole clusters from <paramref name="offset"/> (at most <paramref name="length"/> bytes, in one L2 table) have no
    /// host cluster yet and can be linked to new ones as a run; 0 when the cluster at <paramref name="offset"/> is not one.
    /// </summary>
    private int NewClusterRun(long offset, int length)
    {
        if (map.ExtendedL2 || map.ExternalData || (offset & clusterMask) != 0 || length < clusterSize)
            return 0;
        _ = map.Lookup(offset, 1); // refuses the entries QEMU refuses (unaligned L2 table)
        var first = L2Index(offset);
        var wanted = Math.Min(length >> clusterBits, (1 << map.L2Bits) - first);
        var current = map.L2Table(offset >> (clusterBits + map.L2Bits), out _);
        var count = 0;
        while (count < wanted && IsUnbacked(current is null ? default : new L2Entry(current[first + count])))
            count++;
        return count;
    }

    /// <summary>Points <paramref name="count"/> entries from <paramref name="first"/> at the clusters from <paramref name="host"/> (in memory).</summary>
    private void Link(ulong[] table, int first, int count, long host)
    {
        for (var i = 0; i < count; i++)
            table[first + i] = (ulong)(host + ((long)i << clusterBits)) | L2Entry.CopiedFlag;
    }

    /// <summary>Writes the entries [<paramref name="first"/>, <paramref name="end"/>) of a table without extended entries.</summary>
    private void WriteEntries(ulong[] table, long tableOffset, int first, int end) =>
        EntryTable.Write(storage, tableOffset + (long)first * sizeof(ulong), table.AsSpan(first, end - first));

    private bool IsUnbacked(L2Entry entry) => map.Classifier.Classify(entry) is ClusterType.Unallocated or ClusterType.ZeroPlain;

    private void WriteInCluster(long offset, ReadOnlySpan<byte> data)
    {
        _ = map.Lookup(offset, 1); // refuses the entries QEMU refuses (unaligned, contradictory bitmaps)
        var (table, tableOffset) = WritableL2(offset);
        var index = L2Index(offset);
        var (entry, bitmap) = Get(table, index);
        var within = (int)(offset & clusterMask);
        var end = within + data.Length;
        // Without extended L2 entries the cluster is its only subcluster.
        var firstSub = within >> SubclusterShift;
        var lastSub = (end - 1) >> SubclusterShift;
        var touched = (uint)((1UL << (lastSub + 1)) - (1UL << firstSub));
        var clusterStart = offset - within;
        var hasHost = ClusterClassifier.HasHostCluster(map.Classifier.Classify(entry));
        var host = (long)entry.HostOffset;

        if (hasHost && entry.Copied && (map.ExternalData || allocator.Get(host >> clusterBits) == 1))
        {
            if (!map.ExternalData)
                metadata.RequireNotMetadata(host, "the L2 entry of the guest cluster being written");
            // In place: only subclusters that do not hold data yet need the rest of their bytes copied (COW).
            var spanStart = IsData(entry, bitmap, firstSub) ? within : firstSub << SubclusterShift;
            var spanEnd = IsData(entry, bitmap, lastSub) ? end : Math.Min(clusterSize, (lastSub + 1) << SubclusterShift);
            if (spanStart == within && spanEnd == end)
                disk.DataStorage.Write(host + within, data);
            else
            {
                ReadGuestView(clusterStart + spanStart, cluster.AsSpan(spanStart, spanEnd - spanStart));
                data.CopyTo(cluster.AsSpan(within));
                disk.DataStorage.Write(host + spanStart, cluster.AsSpan(spanStart, spanEnd - spanStart));
            }
            var newBitmap = map.ExtendedL2 ? (bitmap | touched) & ~((ulong)touched << 32) : 0;
            var newEntry = map.ExtendedL2 ? entry : new L2Entry(entry.Value & ~L2Entry.ZeroFlag);
            if (newEntry != entry || newBitmap != bitmap)
                SetEntry(table, tableOffset, index, newEntry, newBitmap);
            return;
        }

        // Copy on write into a new cluster: the old view of the cluster, then the new bytes over it. With extended L2 entries
        // and nothing allocated yet, only the touched subclusters are written, as QEMU does: the others stay unallocated (and
        // holes in the file).
        var (copyStart, copyEnd) = map.ExtendedL2 && !hasHost && !entry.Compressed
            ? (firstSub << SubclusterShift, Math.Min(clusterSize, (lastSub + 1) << SubclusterShift))
            : (0, clusterSize);
        ReadGuestView(clusterStart + copyStart, cluster.AsSpan(copyStart, copyEnd - copyStart));
        data.CopyTo(cluster.AsSpan(within));
        var newHost = map.ExternalData ? clusterStart : allocator.Allocate(1);
        disk.DataStorage.Write(newHost + copyStart, cluster.AsSpan(copyStart, copyEnd - copyStart));
        ulong allocBits = 0, zeroBits = 0;
        if (map.ExtendedL2)
        {
            var oldAlloc = entry.Compressed ? uint.MaxValue : hasHost ? (uint)bitmap : 0;
            allocBits = oldAlloc | touched;
            zeroBits = entry.Compressed ? 0 : (bitmap >> 32) & ~(ulong)touched;
        }
        SetEntry(table, tableOffset, index, new L2Entry((ulong)newHost | L2Entry.CopiedFlag), allocBits | zeroBits << 32);
        FreeData(entry, hasHost);
    }

    private void ZeroInCluster(long offset, long count, bool unmap)
    {
        _ = map.Lookup(offset, 1); // refuses the entries QEMU refuses (unaligned, contradictory bitmaps)
        var (table, tableOffset) = WritableL2(offset);
        var index = L2Index(offset);
        var (entry, bitmap) = Get(table, index);
        var hasHost = ClusterClassifier.HasHostCluster(map.Classifier.Classify(entry));
        L2Entry newEntry;
        ulong newBitmap;
        // An external data file's clusters sit at their guest offsets: they are never unmapped.
        var unmapHost = unmap && hasHost && count == clusterSize && !map.ExternalData;
        if (unmapHost)
            (newEntry, newBitmap) = map.ExtendedL2 ? (default(L2Entry), L2Bitmap.AllZero.Value) : (new L2Entry(L2Entry.ZeroFlag), 0UL);
        else if (count == clusterSize || !map.ExtendedL2)
        {
            // A compressed cluster cannot be a preallocated zero cluster: it is unlinked. Others keep their host cluster.
            if (map.ExtendedL2)
                (newEntry, newBitmap) = (entry.Compressed ? default : entry, L2Bitmap.AllZero.Value);
            else
                (newEntry, newBitmap) = (new L2Entry(entry.Compressed ? L2Entry.ZeroFlag : entry.Value | L2Entry.ZeroFlag), 0);
        }
        else
        {
            if (entry.Compressed)
            {
                // QEMU cannot zero part of a compressed cluster either; it writes zeros instead.
                WriteZeroBuffer(offset, count);
                return;
            }
            var first = (int)((offset & clusterMask) >> SubclusterShift);
            var mask = (uint)((1UL << (first + (int)(count >> SubclusterShift))) - (1UL << first));
            (newEntry, newBitmap) = (entry, (bitmap & ~(ulong)mask) | (ulong)mask << 32);
        }
        if (newEntry == entry && newBitmap == bitmap)
            return;
        SetEntry(table, tableOffset, index, newEntry, newBitmap);
        if (entry.Compressed || unmapHost)
            FreeData(entry, unmapHost);
    }

    private void DiscardCluster(long offset, bool full)
    {
        _ = map.Lookup(offset, 1); // refuses the entries QEMU refuses (unaligned, contradictory bitmaps)
        var l2 = map.L2Table(offset >> (clusterBits + map.L2Bits), out _);
        var (entry, bitmap) = l2 is null ? (default, 0UL) : Get(l2, L2Index(offset));
        var hasHost = ClusterClassifier.HasHostCluster(map.Classifier.Classify(entry));
        if (!full && !hasHost && !entry.Compressed && image.BackingFileName is null)
            return;
        var (newEntry, newBitmap) = full ? (default(L2Entry), 0UL) : map.ExtendedL2 ? (default(L2Entry), L2Bitmap.AllZero.Value) : (new L2Entry(Version3 ? L2Entry.ZeroFlag : 0), 0UL);
        if (newEntry == entry && newBitmap == bitmap)
            return;
        var (table, tableOffset) = WritableL2(offset);
        SetEntry(table, tableOffset, L2Index(offset), newEntry, newBitmap);
        FreeData(entry, hasHost);
    }

    /// <summary>
    /// Lowers the refcounts of the host clusters an unlinked entry used (nothing for external data). A refcount already 0 (a
    /// damaged image) is skipped rather than failing a write that is already linked: at worst that leaves a leak.
    /// </summary>
    private void FreeData(L2Entry entry, bool hasHost)
    {
        if (entry.Compressed)
        {
            // Every host cluster the compressed bytes touch holds one reference for them (QEMU's qcow2_free_any_cluster).
            var (offset, length) = entry.CompressedRange(clusterBits);
            var first = offset >> clusterBits;
            allocator.FreeQuietly(allocator.Clusters(first << clusterBits, ((offset + length - 1) >> clusterBits) - first + 1));
        }
        else if (hasHost && !map.ExternalData)
            allocator.FreeQuietly([(long)entry.HostOffset >> clusterBits]);
    }

    /// <summary>
    /// The L2 table for <paramref name="offset"/> that this image alone owns, creating it (all zeros) or copying a table shared
    /// with a snapshot first: table written, then the L1 entry, then the old table released.
    /// </summary>
    private (ulong[] Table, long Offset) WritableL2(long offset)
    {
        var l1Index = offset >> (clusterBits + map.L2Bits);
        var l1Entry = new L1Entry(map.L1[l1Index]);
        var old = map.L2Table(l1Index, out var oldOffset);
        if (old is not null && l1Entry.Copied && allocator.Get(oldOffset >> clusterBits) == 1)
        {
            metadata.RequireNotMetadata(oldOffset, "an L1 entry", allowed: "active L2 table");
            return (old, oldOffset);
        }
        var table = old is null ? new ulong[clusterSize / sizeof(ulong)] : (ulong[])old.Clone();
        var newOffset = allocator.Allocate(1);
        EntryTable.Write(storage, newOffset, table);
        var newEntry = (ulong)newOffset | L1Entry.CopiedFlag;
        Span<byte> raw = stackalloc byte[sizeof(ulong)];
        BinaryPrimitives.WriteUInt64BigEndian(raw, newEntry);
        storage.Write((long)image.Header.L1TableOffset + l1Index * sizeof(ulong), raw);
        map.L1[l1Index] = newEntry;
        map.L2Tables.Put(newOffset, table);
        metadata.SetActiveL2(newOffset, true);
        if (old is not null)
        {
            map.L2Tables.Remove(oldOffset);
            metadata.SetActiveL2(oldOffset, false);
            allocator.FreeQuietly([oldOffset >> clusterBits]);
        }
        return (table, newOffset);
    }

    private void SetEntry(ulong[] table, long tableOffset, int index, L2Entry entry, ulong bitmap)
    {
        var words = map.EntryWords;
        table[index * words] = entry.Value;
        Span<byte> raw = stackalloc byte[16];
        BinaryPrimitives.WriteUInt64BigEndian(raw, entry.Value);
        if (map.ExtendedL2)
        {
            table[index * 2 + 1] = bitmap;
            BinaryPrimitives.WriteUInt64BigEndian(raw[8..], bitmap);
        }
        storage.Write(tableOffset + (long)index * words * sizeof(ulong), raw[..(words * sizeof(ulong))]);
    }

    private (L2Entry Entry, ulong Bitmap) Get(ulong[] table, int index) =>
        map.ExtendedL2 ? (new L2Entry(table[index * 2]), table[index * 2 + 1]) : (new L2Entry(table[index]), 0);

    private int L2Index(long offset) => (int)((offset >> clusterBits) & ((1L << map.L2Bits) - 1));

    /// <summary>Whether subcluster <paramref name="sub"/> of an entry with a host cluster already holds data there.</summary>
    private bool IsData(L2Entry entry, ulong bitmap, int sub) =>
        map.Classifier.ClassifySubcluster(entry, new L2Bitmap(bitmap), sub) == SubclusterType.Normal;

    /// <summary>What the guest sees now (zeros past the end of the disk), for copy-on-write.</summary>
    private void ReadGuestView(long offset, Span<byte> buffer)
    {
        var inDisk = (int)Math.Clamp(disk.VirtualSize - offset, 0, buffer.Length);
        disk.Read(offset, buffer[..inDisk]);
        buffer[inDisk..].Clear();
    }

    private void WriteZeroBuffer(long offset, long length, bool dataFileOnly = false)
    {
        var zeros = new byte[(int)Math.Min(length, clusterSize)];
        while (length > 0)
        {
            var count = (int)Math.Min(length, clusterSize - (offset & clusterMask));
            if (dataFileOnly)
                disk.DataStorage.Write(offset, zeros.AsSpan(0, count));
            else
                WriteInCluster(offset, zeros.AsSpan(0, count));
            offset += count;
            length -= count;
        }
    }
}
