namespace Qcow2;

/// <summary>
/// Writes a new snapshot table as <c>qcow2_write_snapshots</c> does: to newly allocated clusters, flushed, then header bytes
/// 60-71 (nb_snapshots and snapshots_offset) switched with one write, then the old table freed. A crash leaves the old or
/// the new table in force, with at worst the other one leaked.
/// </summary>
internal static class SnapshotTableWriter
{
    /// <summary>The table bytes: each entry 8-aligned, with no padding after the last (spec §4.5).</summary>
    /// <exception cref="InvalidOperationException">The table would exceed QEMU's 64 MiB limit.</exception>
    public static byte[] Serialize(IReadOnlyList<Qcow2Snapshot> snapshots)
    {
        var size = TableBytes(snapshots);
        if (size > Limits.MaxSnapshotTableBytes)
            throw new InvalidOperationException($"The snapshot table would need {size} bytes, more than QEMU's limit of {Limits.MaxSnapshotTableBytes}");
        var table = new byte[size];
        long at = 0;
        foreach (var snapshot in snapshots)
        {
            at = Align.Up8(at);
            snapshot.Entry.Write(table.AsSpan((int)at));
            at += snapshot.Entry.GetEncodedSize();
        }
        return table;
    }

    /// <summary>The size of the table that lists <paramref name="snapshots"/>, as read or as written.</summary>
    public static long TableBytes(IReadOnlyList<Qcow2Snapshot> snapshots)
    {
        long size = 0;
        foreach (var snapshot in snapshots)
            size = Align.Up8(size) + snapshot.Entry.GetEncodedSize();
        return size;
    }

    /// <summary>Writes <paramref name="table"/> (from <see cref="Serialize"/>) and switches the header to it.</summary>
    public static void Write(IImageStorage storage, ImageMetadata image, ClusterAllocator allocator, byte[] table, int count)
    {
        long offset = 0;
        if (table.Length > 0)
        {
            offset = allocator.Allocate((long)Align.DivideRoundUp((ulong)table.Length, (ulong)image.ClusterSize));
            storage.Write(offset, table);
            storage.Flush();
        }
        var oldOffset = (long)image.Header.SnapshotsOffset;
        var oldSize = TableBytes(image.Snapshots);
        HeaderFieldUpdates.SwitchSnapshotTable(storage, image, (uint)count, offset);
        if (oldOffset != 0 && oldSize > 0)
        {
            allocator.Free(allocator.Clusters(oldOffset, (long)Align.DivideRoundUp((ulong)oldSize, (ulong)image.ClusterSize)));
            storage.Flush();
        }
    }
}
