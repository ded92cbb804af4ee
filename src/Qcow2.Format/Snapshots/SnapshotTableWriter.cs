using System.Text;

namespace Qcow2;

/// <summary>
/// Writes a new snapshot table as <c>qcow2_write_snapshots</c> does: to newly allocated clusters, flushed, then header bytes
/// 60-71 (nb_snapshots and snapshots_offset) switched with one write, then the old table freed. A crash leaves the old or
/// the new table in force, with at worst the other one leaked.
/// </summary>
internal static class SnapshotTableWriter
{
    /// <summary>The table bytes: each entry 8-aligned, its fixed part, extra data, id and name (spec §4.5).</summary>
    /// <exception cref="InvalidOperationException">The table would exceed QEMU's 64 MiB limit.</exception>
    public static byte[] Serialize(IReadOnlyList<Qcow2Snapshot> snapshots)
    {
        long size = 0;
        foreach (var snapshot in snapshots)
            size = Align.Up8(size) + EntrySize(snapshot);
        if (size > Limits.MaxSnapshotTableBytes)
            throw new InvalidOperationException($"The snapshot table would need {size} bytes, more than QEMU's limit of {Limits.MaxSnapshotTableBytes}");
        var table = new byte[size];
        long at = 0;
        foreach (var snapshot in snapshots)
        {
            at = Align.Up8(at);
            var entry = snapshot.Entry;
            entry.IdSize = (ushort)Encoding.UTF8.GetByteCount(snapshot.Id);
            entry.NameSize = (ushort)Encoding.UTF8.GetByteCount(snapshot.Name);
            entry.ExtraDataSize = (uint)snapshot.ExtraData.Length;
            entry.Write(table.AsSpan((int)at));
            at += SnapshotTableEntryHeader.Size;
            snapshot.ExtraData.CopyTo(table.AsSpan((int)at));
            at += snapshot.ExtraData.Length;
            at += Encoding.UTF8.GetBytes(snapshot.Id, table.AsSpan((int)at));
            at += Encoding.UTF8.GetBytes(snapshot.Name, table.AsSpan((int)at));
        }
        return table;
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
        var oldSize = SnapshotTableBytes(image.Snapshots);
        HeaderFieldUpdates.SwitchSnapshotTable(storage, image, (uint)count, offset);
        if (oldOffset != 0 && oldSize > 0)
        {
            allocator.Free(allocator.Clusters(oldOffset, (long)Align.DivideRoundUp((ulong)oldSize, (ulong)image.ClusterSize)));
            storage.Flush();
        }
    }

    private static long EntrySize(Qcow2Snapshot snapshot) =>
        SnapshotTableEntryHeader.Size + snapshot.ExtraData.Length + Encoding.UTF8.GetByteCount(snapshot.Id) + Encoding.UTF8.GetByteCount(snapshot.Name);

    /// <summary>The size of the table on disk, from the sizes its entries declare.</summary>
    private static long SnapshotTableBytes(IReadOnlyList<Qcow2Snapshot> snapshots)
    {
        long size = 0;
        foreach (var snapshot in snapshots)
            size = Align.Up8(size) + SnapshotTableEntryHeader.Size + snapshot.Entry.ExtraDataSize + snapshot.Entry.IdSize + snapshot.Entry.NameSize;
        return size;
    }
}
