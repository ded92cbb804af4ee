namespace Qcow2;

/// <summary>
/// Whether an image looks preallocated with metadata, QEMU's test for asking the file about its holes when it reports
/// allocation: more clusters of the image file have a nonzero refcount than the file occupies on disk, by more than a ninth
/// (and by more than two clusters). Where the file cannot say what it occupies, or a refcount cannot be read, the answer is
/// no, as in QEMU (which then never asks).
/// </summary>
internal static class MetadataPreallocation
{
    public static bool Detect(IImageStorage storage, ImageMetadata image)
    {
        if (storage.AllocatedBytes is not { } allocated)
            return false;
        var clusterBits = image.ClusterBits;
        var occupied = allocated >> clusterBits;
        var threshold = Math.Max(occupied * 10 / 9, occupied + 2);
        var clusters = (storage.Length + image.ClusterSize - 1) >> clusterBits;
        var perBlock = Refcounts.EntriesPerBlock(clusterBits, image.RefcountOrder);
        var tableEntries = (long)image.Header.RefcountTableClusters << (clusterBits - 3);
        var blocks = Math.Min((clusters + perBlock - 1) / perBlock, tableEntries);
        var table = EntryTable.Read(storage, (long)image.Header.RefcountTableOffset, (int)blocks);
        var block = new byte[image.ClusterSize];
        long inUse = 0;
        for (var i = 0; i < table.Length && inUse <= threshold; i++)
        {
            var offset = new RefcountTableEntry(table[i]).BlockOffset;
            if (offset == 0)
                continue;
            if ((offset & (ulong)(image.ClusterSize - 1)) != 0 || offset >= (ulong)storage.Length)
                return false;
            storage.Read((long)offset, block);
            var count = Math.Min(perBlock, clusters - (i * perBlock));
            for (long j = 0; j < count && inUse <= threshold; j++)
            {
                if (Refcounts.Get(block, j, image.RefcountOrder) != 0)
                    inUse++;
            }
        }
        return inUse > threshold;
    }
}
