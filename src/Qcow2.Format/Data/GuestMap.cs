using System.Globalization;

namespace Qcow2;

/// <summary>
/// Guest offset → host location, through the active L1 table (held in memory) and the cached L2 tables (spec §4.1). Every
/// entry is checked as QEMU checks it before I/O (<c>qcow2_get_host_offset</c>): unaligned L2 tables and data clusters,
/// contradictory subcluster bitmaps and compressed clusters in an image with an external data file are refused.
/// </summary>
internal sealed class GuestMap
{
    public GuestMap(IImageStorage storage, ImageMetadata image, long l2CacheBytes)
    {
        ClusterBits = image.ClusterBits;
        Classifier = ClusterClassifier.For(image);
        ExtendedL2 = image.ExtendedL2;
        ExternalData = image.HasExternalDataFile;
        SubclusterBits = ExtendedL2 ? ClusterBits - 5 : ClusterBits;
        L2Bits = ClusterBits - (ExtendedL2 ? 4 : 3);
        // Bounded by the opener's limit on the L1 size (32 MiB).
        L1 = image.Header.L1Size == 0 ? [] : EntryTable.Read(storage, (long)image.Header.L1TableOffset, (int)image.Header.L1Size);
        L2Tables = new L2TableCache(storage, 1 << ClusterBits, l2CacheBytes);
    }

    public ClusterClassifier Classifier { get; }

    public int ClusterBits { get; }
    public int SubclusterBits { get; }
    public int L2Bits { get; }
    public bool ExtendedL2 { get; }
    public bool ExternalData { get; }

    /// <summary>The active L1 table; the writer keeps it equal to the file.</summary>
    public ulong[] L1 { get; }

    public L2TableCache L2Tables { get; }

    /// <summary>Words per L2 entry: 2 with extended entries (the second is the subcluster bitmap).</summary>
    public int EntryWords => ExtendedL2 ? 2 : 1;

    /// <summary>The L2 table of <paramref name="l1Index"/>, or null when the L1 entry is empty or past the table.</summary>
    public ulong[]? L2Table(long l1Index, out long tableOffset)
    {
        tableOffset = 0;
        if (l1Index >= L1.Length)
            return null;
        var entry = new L1Entry(L1[l1Index]);
        if (entry.L2Offset == 0)
            return null;
        if ((entry.L2Offset & ((1UL << ClusterBits) - 1)) != 0)
            throw new Qcow2FormatException(string.Create(CultureInfo.InvariantCulture,
                $"L2 table offset 0x{entry.L2Offset:x} unaligned (L1 index: 0x{l1Index:x})"), "L1Entry", "0x" + entry.Value.ToString("X16", CultureInfo.InvariantCulture));
        tableOffset = (long)entry.L2Offset;
        return L2Tables.Get(tableOffset);
    }

    /// <summary>The longest run at <paramref name="offset"/> of at most <paramref name="maxLength"/> bytes that reads one way.</summary>
    public GuestRun Lookup(long offset, long maxLength)
    {
        var clusterMask = (1L << ClusterBits) - 1;
        var l1Index = offset >> (ClusterBits + L2Bits);
        var tableEnd = (l1Index + 1) << (ClusterBits + L2Bits);
        var limit = Math.Min(maxLength, tableEnd - offset);
        var table = L2Table(l1Index, out var tableOffset);
        if (table is null)
            return new GuestRun(SubclusterType.UnallocatedPlain, limit, 0, default);

        var index = (int)((offset >> ClusterBits) & ((1L << L2Bits) - 1));
        var sub = (int)((offset & clusterMask) >> SubclusterBits);
        var type = Classify(table, tableOffset, index, sub, out var entry);
        var host = HasHost(type) ? (long)entry.HostOffset + (offset & clusterMask) : 0;
        if (type == SubclusterType.Compressed)
            return new GuestRun(type, Math.Min((offset | clusterMask) + 1 - offset, limit), 0, entry);
        var length = (((offset >> SubclusterBits) + 1) << SubclusterBits) - offset;

        // Extend over following subclusters and clusters of the same table that read the same way (data only if contiguous).
        while (length < limit)
        {
            var next = offset + length;
            var nextIndex = (int)((next >> ClusterBits) & ((1L << L2Bits) - 1));
            var nextSub = (int)((next & clusterMask) >> SubclusterBits);
            var nextType = Classify(table, tableOffset, nextIndex, nextSub, out var nextEntry);
            if (nextType != type)
                break;
            if (HasHost(type)
                && (long)nextEntry.HostOffset + (next & clusterMask) != host + length)
                break;
            length += 1L << SubclusterBits;
        }
        return new GuestRun(type, Math.Min(length, limit), host, entry);
    }

    /// <summary>Types whose run has a host cluster (QEMU's <c>BDRV_BLOCK_OFFSET_VALID</c>), including unallocated subclusters of an allocated cluster.</summary>
    private static bool HasHost(SubclusterType type) =>
        type is SubclusterType.Normal or SubclusterType.ZeroAllocated or SubclusterType.UnallocatedAllocated;

    private SubclusterType Classify(ulong[] table, long tableOffset, int index, int sub, out L2Entry entry)
    {
        entry = new L2Entry(table[index * EntryWords]);
        var bitmap = new L2Bitmap(ExtendedL2 ? table[index * 2 + 1] : 0);
        var type = Classifier.ClassifySubcluster(entry, bitmap, sub);
        switch (type)
        {
            case SubclusterType.Invalid:
                throw Corrupt("Invalid cluster entry found", tableOffset, index, entry);
            case SubclusterType.Compressed when ExternalData:
                throw Corrupt("Compressed cluster entry found in image with external data file", tableOffset, index, entry);
            case SubclusterType.Normal or SubclusterType.ZeroAllocated or SubclusterType.UnallocatedAllocated
                when (entry.HostOffset & ((1UL << ClusterBits) - 1)) != 0:
                throw new Qcow2FormatException(string.Create(CultureInfo.InvariantCulture,
                    $"Cluster allocation offset 0x{entry.HostOffset:x} unaligned (L2 offset: 0x{tableOffset:x}, L2 index: 0x{index:x})"),
                    "L2Entry", "0x" + entry.Value.ToString("X16", CultureInfo.InvariantCulture));
        }
        return type;
    }

    private static Qcow2FormatException Corrupt(string qemuMessage, long tableOffset, int index, L2Entry entry) =>
        new(string.Create(CultureInfo.InvariantCulture, $"{qemuMessage} (L2 offset: 0x{tableOffset:x}, L2 index: 0x{index:x})"),
            "L2Entry", "0x" + entry.Value.ToString("X16", CultureInfo.InvariantCulture));
}
