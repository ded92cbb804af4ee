using System.Globalization;

namespace Qcow2;

/// <summary>
/// The host clusters that hold metadata, by kind: QEMU's overlap check (<c>qcow2_check_metadata_overlap</c>, the "cached"
/// set plus the bitmap directory and tables). A guest write that would land on one of them is refused before it changes
/// anything, where QEMU marks the image corrupt ("Preventing invalid write on metadata").
/// </summary>
internal sealed class MetadataClusters
{
    private readonly Dictionary<long, string> kinds = [];
    private readonly int clusterBits;
    private readonly long fileClusters;

    public MetadataClusters(IImageStorage storage, ImageMetadata image, ulong[] activeL1)
    {
        clusterBits = image.ClusterBits;
        fileClusters = (storage.Length >> clusterBits) + 1;
        var header = image.Header;
        Add(0, 1, "qcow2_header");
        Add((long)header.L1TableOffset, (long)header.L1Size * sizeof(ulong), "active L1 table");
        foreach (var entry in activeL1)
        {
            if (new L1Entry(entry).L2Offset is var l2 and not 0)
                Add((long)l2, 1, "active L2 table");
        }
        var reftableBytes = (long)header.RefcountTableClusters << clusterBits;
        Add((long)header.RefcountTableOffset, reftableBytes, "refcount table");
        var inFile = (int)Math.Clamp((storage.Length - (long)header.RefcountTableOffset) / sizeof(ulong), 0, reftableBytes / sizeof(ulong));
        foreach (var entry in EntryTable.Read(storage, (long)header.RefcountTableOffset, inFile))
        {
            if (new RefcountTableEntry(entry).BlockOffset is var block and not 0)
                Add((long)block, 1, "refcount block");
        }
        var snapshotBytes = 0L;
        foreach (var snapshot in image.Snapshots)
        {
            snapshotBytes += Align.Up8(snapshot.Entry.GetEncodedSize());
            Add(snapshot.L1TableOffset, (long)snapshot.L1Size * sizeof(ulong), "inactive L1 table");
        }
        Add((long)header.SnapshotsOffset, snapshotBytes, "snapshot table");
        if (image.BitmapsExtension is { } bitmaps)
        {
            Add((long)bitmaps.DirectoryOffset, (long)bitmaps.DirectorySize, "bitmap directory");
            foreach (var bitmap in image.Bitmaps)
                Add(bitmap.TableOffset, (long)bitmap.TableSize * sizeof(ulong), "bitmap table");
        }
    }

    /// <summary>Records a new L2 table; forgets one that is no longer active.</summary>
    public void SetActiveL2(long offset, bool active)
    {
        if (active)
            kinds[offset >> clusterBits] = "active L2 table";
        else if (kinds.TryGetValue(offset >> clusterBits, out var kind) && kind == "active L2 table")
            kinds.Remove(offset >> clusterBits);
    }

    /// <summary>Throws QEMU's refusal when the host cluster at <paramref name="offset"/> holds metadata other than <paramref name="allowed"/>.</summary>
    public void RequireNotMetadata(long offset, string what, string? allowed = null)
    {
        if (kinds.TryGetValue(offset >> clusterBits, out var kind) && kind != allowed)
            throw new Qcow2FormatException(string.Create(CultureInfo.InvariantCulture,
                $"Preventing invalid write on metadata (overlaps with {kind}): {what} points to host offset 0x{offset:x}"),
                "L2Entry", "0x" + offset.ToString("X", CultureInfo.InvariantCulture));
    }

    private void Add(long offset, long bytes, string kind)
    {
        if (bytes <= 0)
            return;
        // Only clusters inside the file can be written in place (they need refcount 1): a table the image claims far past its
        // end (a snapshot's L1 size is not checked at open) costs nothing.
        var last = Math.Min((offset + bytes - 1) >> clusterBits, fileClusters);
        for (var cluster = offset >> clusterBits; cluster <= last; cluster++)
            kinds.TryAdd(cluster, kind);
    }
}
