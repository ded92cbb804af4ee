using System.Globalization;
using System.Text;

namespace Qcow2;

/// <summary>
/// Internal snapshot create, apply and delete, in the order of writes of QEMU's <c>qcow2-snapshot.c</c>, arranged so that a
/// crash after any single write leaves the old or the new set of snapshots, each with its data, and at worst leaked clusters.
/// Refcounts and COPIED flags live in different clusters, so between their writes a COPIED flag may already say what the
/// refcount will say once the leak is repaired (set on a cluster whose only other reference is the leak): qemu-img check
/// counts that as a corruption, but no data is at risk and <c>check -r leaks</c> alone makes the image clean.
/// Everything is read and validated before the first write.
/// </summary>
internal sealed class SnapshotOperations(IImageStorage storage, ImageMetadata image)
{
    private readonly SnapshotRefcounts refcounts = new(storage, image);

    /// <summary>
    /// <c>qcow2_snapshot_create</c>: copy the active L1 to new clusters, raise the refcount of everything it reaches, clear
    /// COPIED in the active tables, then switch to a snapshot table that lists the new snapshot.
    /// </summary>
    public Qcow2Snapshot Create(string name, DateTimeOffset date)
    {
        if (image.Snapshots.Count >= Limits.MaxSnapshots)
            throw new InvalidOperationException($"The image already has {Limits.MaxSnapshots} snapshots, QEMU's limit");
        var l1 = ActiveL1();
        var references = refcounts.Collect(l1, "active L1 table");

        var l1Bytes = (long)l1.Length * sizeof(ulong);
        var unixNanoseconds = (date.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) * 100;
        var entry = new SnapshotTableEntry
        {
            L1Size = (uint)l1.Length,
            Id = Encoding.UTF8.GetBytes(NextId()),
            Name = Encoding.UTF8.GetBytes(name),
            Extra = new SnapshotExtraData { Size = SnapshotExtraData.KnownSize, DiskSize = image.VirtualSize },
            DateSeconds = (uint)(unixNanoseconds / 1_000_000_000),
            DateNanoseconds = (uint)(unixNanoseconds % 1_000_000_000),
        };
        var snapshot = new Qcow2Snapshot(entry);
        // Sized before anything is written: a table over QEMU's limit is refused with nothing changed.
        List<Qcow2Snapshot> snapshots = [.. image.Snapshots, snapshot];
        SnapshotTableWriter.Serialize(snapshots);

        var allocator = new ClusterAllocator(storage, image);
        allocator.CheckCanAddReferences(references);
        if (l1Bytes > 0)
        {
            entry.L1TableOffset = (ulong)allocator.Allocate((long)Align.DivideRoundUp((ulong)l1Bytes, (ulong)image.ClusterSize));
            EntryTable.Write(storage, (long)entry.L1TableOffset, l1);
            storage.Flush();
        }
        allocator.AddReferences(references);
        storage.Flush();
        refcounts.UpdateCopiedFlags(allocator, l1, (long)image.Header.L1TableOffset, l1.Length);

        SwitchTable(allocator, snapshots);
        return snapshot;
    }

    /// <summary>
    /// The first half of <c>qcow2_snapshot_goto</c>, before any resize to the snapshot's disk size: the snapshot's L1 table
    /// and every table it reaches are read and validated, and the references it adds checked against the refcount width, so
    /// that a damaged snapshot is refused with nothing changed.
    /// </summary>
    /// <param name="snapshot">The snapshot to apply.</param>
    /// <param name="activeL1Size">The size the active L1 table will have after the resize.</param>
    public PreparedSnapshotApply PrepareApply(Qcow2Snapshot snapshot, long activeL1Size)
    {
        ValidateL1(snapshot);
        if (snapshot.L1Size > activeL1Size)
            throw new Qcow2FormatException($"Snapshot '{snapshot.Name}' has an L1 table of {snapshot.L1Size} entries, more than the active one's {activeL1Size}",
                "SnapshotTableEntry.L1Size", snapshot.L1Size.ToString(CultureInfo.InvariantCulture));
        var l1 = EntryTable.Read(storage, snapshot.L1TableOffset, snapshot.L1Size);
        var added = refcounts.Collect(l1, "snapshot L1 table");
        new ClusterAllocator(storage, image).CheckCanAddReferences(added);
        return new PreparedSnapshotApply(snapshot, l1, added);
    }

    /// <summary>
    /// The rest of <c>qcow2_snapshot_goto</c>, after any resize: raise the refcounts of everything the snapshot's L1 reaches
    /// (clearing COPIED there), overwrite the active L1 with it in one write, lower the refcounts the old active L1 held, and
    /// set COPIED where a cluster is no longer shared.
    /// </summary>
    public void Apply(PreparedSnapshotApply prepared)
    {
        var snapshot = prepared.Snapshot;
        var active = ActiveL1();
        var target = new ulong[active.Length];
        prepared.L1.CopyTo(target, 0);
        var removed = refcounts.Collect(active, "active L1 table");

        var allocator = new ClusterAllocator(storage, image);
        allocator.AddReferences(prepared.Added);
        storage.Flush();
        refcounts.UpdateCopiedFlags(allocator, target, snapshot.L1TableOffset, snapshot.L1Size);
        EntryTable.Write(storage, (long)image.Header.L1TableOffset, target);
        storage.Flush();
        allocator.Free(removed);
        storage.Flush();
        refcounts.UpdateCopiedFlags(allocator, target, (long)image.Header.L1TableOffset, target.Length);
    }

    /// <summary>
    /// <c>qcow2_snapshot_delete</c>: switch to a snapshot table without the snapshot, set COPIED in the active tables where a
    /// cluster will no longer be shared, then lower the refcounts the snapshot's L1 held and free its L1 table. (QEMU lowers
    /// first; setting the flags first means a crash in between leaves only leaks, with the flags already right.)
    /// </summary>
    public void Delete(Qcow2Snapshot snapshot)
    {
        ValidateL1(snapshot);
        var l1 = EntryTable.Read(storage, snapshot.L1TableOffset, snapshot.L1Size);
        var released = refcounts.Collect(l1, "snapshot L1 table");
        var allocator = new ClusterAllocator(storage, image);
        released.AddRange(allocator.Clusters(snapshot.L1TableOffset, (long)Align.DivideRoundUp((ulong)snapshot.L1Size * sizeof(ulong), (ulong)image.ClusterSize)));
        released.Sort();
        var active = ActiveL1();
        SwitchTable(allocator, image.Snapshots.Where(s => !ReferenceEquals(s, snapshot)).ToList());
        refcounts.UpdateCopiedFlags(allocator, active, (long)image.Header.L1TableOffset, active.Length, released);
        allocator.Free(released);
        storage.Flush();
    }

    /// <summary>QEMU's <c>find_new_snapshot_id</c>: one more than the largest numeric id.</summary>
    private string NextId()
    {
        ulong max = 0;
        foreach (var snapshot in image.Snapshots)
        {
            if (ulong.TryParse(LeadingDigits(snapshot.Id), NumberStyles.None, CultureInfo.InvariantCulture, out var id))
                max = Math.Max(max, id);
        }
        return (max + 1).ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>strtoul reads the leading digits and ignores the rest ("12abc" is 12, "abc" is 0).</summary>
    private static string LeadingDigits(string id)
    {
        var length = 0;
        while (length < id.Length && char.IsAsciiDigit(id[length]))
            length++;
        return id[..length];
    }

    /// <summary>QEMU's <c>qcow2_validate_table</c> for a snapshot's L1 table, before anything is written.</summary>
    private void ValidateL1(Qcow2Snapshot snapshot)
    {
        const string Field = "SnapshotTableEntry.L1TableOffset";
        if ((ulong)snapshot.L1Size > Limits.MaxL1Entries)
            throw new Qcow2FormatException("Snapshot L1 table too large", "SnapshotTableEntry.L1Size", snapshot.L1Size.ToString(CultureInfo.InvariantCulture));
        if (snapshot.L1TableOffset % image.ClusterSize != 0 || long.MaxValue - (long)snapshot.L1Size * sizeof(ulong) < snapshot.L1TableOffset
            || (snapshot.L1Size > 0 && snapshot.L1TableOffset == 0))
            throw new Qcow2FormatException("Snapshot L1 table offset invalid", Field, "0x" + snapshot.L1TableOffset.ToString("x", CultureInfo.InvariantCulture));
        if (snapshot.L1TableOffset + (long)snapshot.L1Size * sizeof(ulong) > storage.Length)
            throw new Qcow2FormatException("Snapshot L1 table lies past the end of the file", Field, "0x" + snapshot.L1TableOffset.ToString("x", CultureInfo.InvariantCulture));
    }

    private ulong[] ActiveL1() =>
        image.Header.L1Size == 0 ? [] : EntryTable.Read(storage, (long)image.Header.L1TableOffset, (int)image.Header.L1Size);

    private void SwitchTable(ClusterAllocator allocator, List<Qcow2Snapshot> snapshots)
    {
        var table = SnapshotTableWriter.Serialize(snapshots);
        SnapshotTableWriter.Write(storage, image, allocator, table, snapshots.Count);
        image.Snapshots = snapshots;
    }
}
