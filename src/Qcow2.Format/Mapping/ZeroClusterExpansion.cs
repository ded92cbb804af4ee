using System.Globalization;

namespace Qcow2;

/// <summary>
/// Zero clusters turned into what version 2 can express, before a downgrade (QEMU's <c>qcow2_expand_zero_clusters</c>): in
/// every L2 table the active L1 or a snapshot's L1 reaches, each L2 table once. Without a backing file a plain zero cluster
/// becomes unallocated (it reads as zeros either way); with one it gets a new zero-filled cluster. A preallocated zero
/// cluster is zero-filled in place and loses its zero flag.
/// </summary>
/// <remarks>
/// A new cluster gets the L2 table's refcount (it is reached through as many L1 tables as the L2 table), and COPIED when that
/// refcount is 1, as in QEMU. Unlike QEMU 7.2, a preallocated zero cluster that another L2 table shares (a snapshot taken
/// before the guest zeroed it, which still reads the old data there) is not overwritten: the entry gets a new zero-filled
/// cluster and the shared one loses this table's references. QEMU zeroes it in place, which destroys the snapshot's data and
/// leaves a COPIED error. Each table: new clusters allocated and zero-filled, then the L2 table written with one write, then
/// replaced clusters released; a crash leaves at worst leaks.
/// </remarks>
internal sealed class ZeroClusterExpansion(IImageStorage storage, ImageMetadata image)
{
    private readonly L1L2Geometry geometry = image.Geometry;
    private readonly ClusterClassifier classifier = image.Classifier;
    private readonly int clusterBits = image.ClusterBits;
    private readonly int clusterSize = image.ClusterSize;

    /// <summary>The L1 tables to walk: the active one, then each snapshot's.</summary>
    private IEnumerable<ulong[]> L1Tables()
    {
        yield return image.Header.L1Size == 0 ? [] : EntryTable.Read(storage, (long)image.Header.L1TableOffset, (int)image.Header.L1Size);
        foreach (var snapshot in image.Snapshots)
            yield return EntryTable.Read(storage, snapshot.L1TableOffset, snapshot.L1Size);
    }

    /// <summary>The offsets of the L2 tables that hold a zero cluster, each once, in the order the L1 tables reach them.</summary>
    private List<long> TablesWithZeroClusters()
    {
        var seen = new HashSet<long>();
        var found = new List<long>();
        var table = new byte[clusterSize];
        foreach (var l1 in L1Tables())
        {
            foreach (var value in l1)
            {
                if (new L1Entry(value).L2Offset is var offset and not 0 && seen.Add((long)offset))
                {
                    ReadTable((long)offset, table);
                    if (ZeroEntries(table).Any())
                        found.Add((long)offset);
                }
            }
        }
        return found;
    }

    /// <summary>Expands every zero cluster; every L2 table is read (and its offset checked) before the first write.</summary>
    public void Run(bool hasBackingFile)
    {
        var tables = TablesWithZeroClusters();
        if (tables.Count == 0)
            return;
        var allocator = new ClusterAllocator(storage, image);
        var metadata = new MetadataClusters(storage, image, L1Tables().First());
        var table = new byte[clusterSize];
        var zeros = new byte[clusterSize];
        foreach (var offset in tables)
        {
            ReadTable(offset, table);
            var tableRefcount = allocator.Get(offset >> clusterBits);
            if (tableRefcount == 0)
                throw new Qcow2FormatException(string.Create(CultureInfo.InvariantCulture, $"The L2 table at 0x{offset:x} has refcount 0; repair the image first (qcow2 check -r all)"),
                    "Refcount", "0");

            var needNew = new List<long>();
            var released = new List<long>();
            foreach (var index in ZeroEntries(table).ToList())
            {
                var entry = geometry.ReadEntry(table, index);
                if (classifier.Classify(entry) == ClusterType.ZeroPlain)
                {
                    if (hasBackingFile)
                        needNew.Add(index);
                    else
                        geometry.WriteEntry(table, index, new L2Entry(0));
                    continue;
                }
                var cluster = (long)(entry.Value & L2Entry.OffsetMask);
                if (allocator.Get(cluster >> clusterBits) > tableRefcount)
                {
                    needNew.Add(index);
                    for (var r = 0UL; r < tableRefcount; r++)
                        released.Add(cluster >> clusterBits);
                    continue;
                }
                metadata.RequireNotMetadata(cluster, "a preallocated zero cluster");
                storage.Write(cluster, zeros);
                geometry.WriteEntry(table, index, Expanded(cluster, tableRefcount));
            }

            if (needNew.Count > 0)
            {
                var first = allocator.Allocate(needNew.Count);
                if (tableRefcount > 1)
                {
                    var extra = new List<long>();
                    foreach (var cluster in allocator.Clusters(first, needNew.Count))
                    {
                        for (var r = 1UL; r < tableRefcount; r++)
                            extra.Add(cluster);
                    }
                    allocator.AddReferences(extra);
                }
                for (var i = 0; i < needNew.Count; i++)
                {
                    var cluster = first + ((long)i << clusterBits);
                    storage.Write(cluster, zeros);
                    geometry.WriteEntry(table, needNew[i], Expanded(cluster, tableRefcount));
                }
            }
            storage.Flush();
            storage.Write(offset, table);
            storage.Flush();
            if (released.Count > 0)
            {
                allocator.Free(released);
                storage.Flush();
            }
        }
    }

    private static L2Entry Expanded(long cluster, ulong tableRefcount) => new L2Entry((ulong)cluster).WithCopied(tableRefcount == 1);

    private IEnumerable<long> ZeroEntries(byte[] table)
    {
        for (var index = 0L; index < geometry.L2Entries; index++)
        {
            if (classifier.Classify(geometry.ReadEntry(table, index)) is ClusterType.ZeroPlain or ClusterType.ZeroAllocated)
                yield return index;
        }
    }

    private void ReadTable(long offset, byte[] table)
    {
        if (offset % clusterSize != 0 || offset > storage.Length - clusterSize)
            throw new Qcow2FormatException(string.Create(CultureInfo.InvariantCulture, $"An L2 table offset is invalid (unaligned or past the end of the file): 0x{offset:x}"),
                "L1Entry", "0x" + offset.ToString("X", CultureInfo.InvariantCulture));
        storage.Read(offset, table);
    }
}
