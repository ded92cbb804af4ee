using System.Globalization;

namespace Qcow2;

/// <summary>
/// QEMU's <c>qcow2_update_snapshot_refcount</c> taken apart, so that callers can order the writes for crash safety: the
/// references an L1 table holds (its L2 tables and their data clusters) are collected and validated first, without a write;
/// refcounts are then raised or lowered in one batch; COPIED flags are recomputed in a separate pass.
/// </summary>
internal sealed class SnapshotRefcounts(IImageStorage storage, ImageMetadata image)
{
    private readonly int clusterBits = image.ClusterBits;
    private readonly L1L2Geometry geometry = image.Geometry;
    private readonly ClusterClassifier classifier = image.Classifier;

    /// <summary>
    /// Every host cluster <paramref name="l1"/> holds a reference to, once per reference, as QEMU counts them: each L2 table, and
    /// each cluster its normal, preallocated zero and compressed entries use.
    /// </summary>
    /// <exception cref="Qcow2FormatException">An L2 table or a data cluster is not cluster-aligned (QEMU: corruption, -EIO).</exception>
    public List<long> Collect(ulong[] l1, string tableName)
    {
        var clusters = new List<long>();
        var offsets = L2Offsets(l1);
        using var reader = new ClusterRunReader(storage, image.ClusterSize);
        for (var i = 0; i < offsets.Length; i++)
        {
            if (offsets[i] == 0)
                continue;
            clusters.Add((long)(offsets[i] >> clusterBits));
            var table = reader.Get(offsets, i);
            for (var index = 0L; index < geometry.L2Entries; index++)
            {
                var entry = geometry.ReadEntry(table, index);
                if (ClusterClassifier.HasHostCluster(classifier.Classify(entry)) && entry.HostOffset % (ulong)image.ClusterSize != 0)
                    throw new Qcow2FormatException($"Cannot update refcount: data cluster offset {Hex(entry.HostOffset)} in the L2 table at {Hex(offsets[i])} of the {tableName} is unaligned",
                        "L2Entry", Hex(entry.Value));
                classifier.AddReferencedClusters(entry, clusterBits, clusters);
            }
        }
        return clusters;
    }

    /// <summary>
    /// Sets COPIED exactly where the refcount is 1 (never on compressed clusters), as QEMU's addend-0 pass does: first in the L2
    /// tables <paramref name="l1"/> reaches (each changed table written once, then a flush), then in <paramref name="l1"/> itself,
    /// which is written at <paramref name="l1Offset"/> (its first <paramref name="l1Entries"/> entries, one write) when it changed.
    /// With <paramref name="pendingReleases"/> (sorted), the refcounts are taken as they will be once those references are
    /// dropped: a caller that sets the flags before lowering the refcounts leaves, if it crashes in between, only leaks
    /// whose repair makes the flags right.
    /// </summary>
    public void UpdateCopiedFlags(ClusterAllocator allocator, ulong[] l1, long l1Offset, int l1Entries, List<long>? pendingReleases = null)
    {
        ulong Refcount(long cluster) => allocator.Get(cluster) - (pendingReleases is null ? 0 : Occurrences(pendingReleases, cluster));
        var offsets = L2Offsets(l1);
        var tablesChanged = false;
        using (var reader = new ClusterRunReader(storage, image.ClusterSize))
        {
            for (var i = 0; i < offsets.Length; i++)
            {
                if (offsets[i] == 0)
                    continue;
                var table = reader.Get(offsets, i);
                var changed = false;
                for (var index = 0L; index < geometry.L2Entries; index++)
                {
                    var entry = geometry.ReadEntry(table, index);
                    var copied = ClusterClassifier.HasHostCluster(classifier.Classify(entry)) && Refcount((long)(entry.HostOffset >> clusterBits)) == 1;
                    if (copied == entry.Copied)
                        continue;
                    geometry.WriteEntry(table, index, entry.WithCopied(copied));
                    changed = true;
                }
                if (changed)
                {
                    reader.WriteBack((long)offsets[i]);
                    tablesChanged = true;
                }
            }
        }
        if (tablesChanged)
            storage.Flush();

        var l1Changed = false;
        for (var i = 0; i < l1.Length; i++)
        {
            if (offsets[i] == 0)
                continue;
            var value = new L1Entry(l1[i]).WithCopied(Refcount((long)(offsets[i] >> clusterBits)) == 1).Value;
            l1Changed |= value != l1[i];
            l1[i] = value;
        }
        if (l1Changed)
        {
            EntryTable.Write(storage, l1Offset, l1.AsSpan(0, l1Entries));
            storage.Flush();
        }
    }

    /// <summary>The L2 table offsets of <paramref name="l1"/> (0 for none), each checked to be cluster-aligned.</summary>
    private ulong[] L2Offsets(ulong[] l1)
    {
        var offsets = new ulong[l1.Length];
        for (var i = 0; i < l1.Length; i++)
        {
            offsets[i] = new L1Entry(l1[i]).L2Offset;
            if (offsets[i] % (ulong)image.ClusterSize != 0)
                throw new Qcow2FormatException($"Cannot update refcount: L2 table offset {Hex(offsets[i])} (L1 index {i}) is unaligned", "L1Entry", Hex(l1[i]));
        }
        return offsets;
    }

    /// <summary>How often <paramref name="value"/> occurs in the sorted list.</summary>
    private static ulong Occurrences(List<long> sorted, long value)
    {
        int low = 0, high = sorted.Count;
        while (low < high)
        {
            var middle = (low + high) >>> 1;
            if (sorted[middle] < value)
                low = middle + 1;
            else
                high = middle;
        }
        var count = 0UL;
        for (var i = low; i < sorted.Count && sorted[i] == value; i++)
            count++;
        return count;
    }

    private static string Hex(ulong value) => "0x" + value.ToString("x", CultureInfo.InvariantCulture);
}
