using System.Buffers.Binary;
using static Qcow2.CheckContext;

namespace Qcow2;

/// <summary>
/// QEMU's <c>check_oflag_copied</c>: the COPIED flag of every active L1 and L2 entry must say whether the cluster it points at
/// has refcount 1, judged by the refcounts on disk after the comparison's repairs.
/// </summary>
internal sealed class CopiedFlagPass
{
    private readonly CheckContext context;
    private readonly IImageStorage storage;
    private readonly ComparedRefcounts onDisk;
    private readonly bool repair;
    private readonly int clusterBits;
    private readonly int clusterSize;
    private readonly L1L2Geometry geometry;
    private readonly ClusterClassifier classifier;
    private CheckCounters counters;

    private CopiedFlagPass(CheckContext context, ComparedRefcounts onDisk, bool repair)
    {
        this.context = context;
        this.onDisk = onDisk;
        this.repair = repair;
        storage = context.Storage;
        clusterBits = context.ClusterBits;
        clusterSize = context.ClusterSize;
        geometry = context.Geometry;
        classifier = context.Classifier;
    }

    /// <summary>
    /// Checks the flags in the active L1 table (as the walk read it: nothing since has changed it) and its L2 tables; returns
    /// the corruptions found and repaired. The L2 tables are read again only when <paramref name="tablesChanged"/> (the check
    /// wrote to the image), when a refcount on disk stays wrong, or when the walk's summary of their flags cannot rule out a
    /// finding; otherwise no data-cluster entry can be reported, and the L1 entries alone are checked.
    /// </summary>
    public static CheckCounters Run(CheckContext context, ReferenceCounts references, ComparedRefcounts onDisk, bool repair, bool tablesChanged)
    {
        var pass = new CopiedFlagPass(context, onDisk, repair);
        var readTables = tablesChanged || onDisk.HasUnrepaired || references.Copied.MayDisagree(references.Computed);
        pass.CheckAll(references.ActiveL1, readTables);
        return pass.counters;
    }

    private void CheckAll(ulong[] l1, bool readTables)
    {
        var l1Offset = (long)context.Image.Header.L1TableOffset;
        var l2Offsets = new ulong[l1.Length];
        for (var i = 0; i < l1.Length; i++)
            l2Offsets[i] = new L1Entry(l1[i]).L2Offset;
        // The reader's buffer (4 MiB) only when the tables are read.
        using var reader = readTables ? new ClusterRunReader(storage, clusterSize) : null;
        Span<byte> l1Entry8 = stackalloc byte[sizeof(ulong)];
        for (var i = 0; i < l1.Length; i++)
        {
            var l1Entry = new L1Entry(l1[i]);
            var l2Offset = l1Entry.L2Offset;
            if (l2Offset == 0)
                continue;
            if (!onDisk.TryGetOnDiskRefcount((long)(l2Offset >> clusterBits), out var l2Refcount))
                continue;
            if ((l2Refcount == 1) != l1Entry.Copied)
            {
                ReportCopied($"OFLAG_COPIED L2 cluster: l1_index={i} l1_entry={Hex(l1Entry.Value)} refcount={l2Refcount}");
                if (repair)
                {
                    BinaryPrimitives.WriteUInt64BigEndian(l1Entry8, l1Entry.WithCopied(l2Refcount == 1).Value);
                    storage.Write(l1Offset + (long)i * sizeof(ulong), l1Entry8);
                }
            }

            if (!readTables)
                continue;
            // An unaligned table was reported by the walk; QEMU reads it all the same.
            var span = l2Offset % (ulong)clusterSize == 0 ? reader!.Get(l2Offsets, i) : ReadUnaligned((long)l2Offset);
            var dirty = false;
            for (var j = 0; j < geometry.L2Entries; j++)
            {
                var entry = geometry.ReadEntry(span, j);
                if (!ClusterClassifier.HasHostCluster(classifier.Classify(entry)))
                    continue;
                ulong refcount = 1;
                if (!context.HasDataFile && !onDisk.TryGetOnDiskRefcount((long)((entry.Value & L2Entry.OffsetMask) >> clusterBits), out refcount))
                    continue;
                if ((refcount == 1) == entry.Copied)
                    continue;
                ReportCopied($"OFLAG_COPIED data cluster: l2_entry={Hex(entry.Value)} refcount={refcount}");
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

    private byte[] ReadUnaligned(long offset)
    {
        var table = new byte[clusterSize];
        storage.Read(offset, table);
        return table;
    }

    private void ReportCopied(string what)
    {
        context.Findings.Add(new Qcow2CheckFinding(Qcow2CheckFindingKind.CopiedFlag, (repair ? "Repairing " : "ERROR ") + what, Repaired: repair));
        if (repair)
            counters.CorruptionsFixed++;
        else
            counters.Corruptions++;
    }
}
