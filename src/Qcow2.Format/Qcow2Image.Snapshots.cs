using System.Text;

namespace Qcow2;

public sealed partial class Qcow2Image
{
    /// <summary>The longest snapshot name QEMU keeps, in UTF-8 bytes (its names are 256-byte C strings).</summary>
    public const int MaxSnapshotNameBytes = 255;

    /// <summary>
    /// Creates an internal snapshot of the current disk state, as <c>qemu-img snapshot -c</c> does: the next numeric id, the
    /// given name (names may repeat, as in qemu-img), no VM state, the current virtual size as its disk size. The active L1 table
    /// is copied, every cluster it reaches gains a reference, and a new snapshot table is switched in with one header write.
    /// A crash at any point leaves the old or the new set of snapshots, with at worst leaked clusters.
    /// </summary>
    /// <param name="name">The snapshot name: at most <see cref="MaxSnapshotNameBytes"/> UTF-8 bytes; may be empty.</param>
    /// <param name="date">The wall-clock time to record; null for now.</param>
    /// <exception cref="ArgumentException">The name is longer than <see cref="MaxSnapshotNameBytes"/> bytes.</exception>
    /// <exception cref="InvalidOperationException">The image is read-only, or already has QEMU's maximum of 65536 snapshots, or the table would exceed 64 MiB.</exception>
    /// <exception cref="NotSupportedException">The image has an external data file (QEMU refuses internal snapshots there).</exception>
    /// <exception cref="OverflowException">A refcount would exceed what <see cref="RefcountBits"/> can hold (for example with 1-bit refcounts).</exception>
    /// <exception cref="Qcow2FormatException">The active tables are damaged (unaligned offsets, clusters without refcount blocks).</exception>
    public Qcow2Snapshot CreateSnapshot(string name, DateTimeOffset? date = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (Encoding.UTF8.GetByteCount(name) > MaxSnapshotNameBytes)
            throw new ArgumentException($"A snapshot name is at most {MaxSnapshotNameBytes} UTF-8 bytes", nameof(name));
        EnsureWritable();
        EnsureNoDataFile();
        return new SnapshotOperations(storage, image).Create(name, date ?? DateTimeOffset.UtcNow);
    }

    /// <summary>
    /// Reverts the disk to <paramref name="snapshot"/>, as <c>qemu-img snapshot -a</c> does: the virtual size becomes the
    /// snapshot's disk size (when it records one), the snapshot's L1 table becomes the active one, and clusters only the old
    /// state used are freed. The snapshot stays. A crash leaves the old or the new disk state, with at worst leaked clusters.
    /// </summary>
    /// <exception cref="ArgumentException">The snapshot is not one of this image's <see cref="Snapshots"/>.</exception>
    /// <exception cref="InvalidOperationException">
    /// The image is read-only, or has persistent bitmaps ("Device has active dirty bitmaps", as QEMU refuses too: the revert
    /// would change the disk behind the bitmaps' back, and an incremental backup based on them would miss it).
    /// </exception>
    /// <exception cref="Qcow2FormatException">The snapshot's or the active tables are damaged ("Snapshot L1 table offset invalid", …), or the resize is refused.</exception>
    public void ApplySnapshot(Qcow2Snapshot snapshot)
    {
        EnsureOwnSnapshot(snapshot);
        EnsureWritable();
        EnsureNoDataFile();
        if (Bitmaps.Count > 0)
            throw new InvalidOperationException("Device has active dirty bitmaps");
        // Everything about the snapshot is validated before the resize, the first write, as QEMU validates first.
        var operations = new SnapshotOperations(storage, image);
        long? newSize = snapshot.DiskSize is { } size && size != VirtualSize ? size : null;
        var l1Size = newSize is { } grown ? Math.Max(image.Header.L1Size, (long)image.Geometry.RequiredL1Entries((ulong)grown)) : image.Header.L1Size;
        var prepared = operations.PrepareApply(snapshot, l1Size);
        if (newSize is { } resized)
            Resize(resized, new Qcow2ResizeOptions { AllowShrink = true });
        operations.Apply(prepared);
    }

    /// <summary>
    /// Deletes <paramref name="snapshot"/>, as <c>qemu-img snapshot -d</c> does: a snapshot table without it is switched in
    /// first, then the references its L1 table held are dropped and clusters no longer shared get their COPIED flag back.
    /// A crash leaves the snapshot listed with its data, or gone with at worst leaked clusters.
    /// </summary>
    /// <exception cref="ArgumentException">The snapshot is not one of this image's <see cref="Snapshots"/>.</exception>
    /// <exception cref="InvalidOperationException">The image is read-only.</exception>
    /// <exception cref="Qcow2FormatException">The snapshot's tables are damaged ("Snapshot L1 table offset invalid", …).</exception>
    public void DeleteSnapshot(Qcow2Snapshot snapshot)
    {
        EnsureOwnSnapshot(snapshot);
        EnsureWritable();
        new SnapshotOperations(storage, image).Delete(snapshot);
    }

    /// <summary>
    /// The snapshot qemu-img's <c>-a</c> means by <paramref name="idOrName"/>: the one with that id, else the first with that
    /// name; null when there is none.
    /// </summary>
    public Qcow2Snapshot? FindSnapshotByIdOrName(string idOrName) =>
        Snapshots.FirstOrDefault(s => s.Id == idOrName) ?? Snapshots.FirstOrDefault(s => s.Name == idOrName);

    /// <summary>
    /// The snapshot qemu-img's <c>-d</c> means by <paramref name="nameOrId"/>: the first with that name, else the one with that
    /// id; null when there is none.
    /// </summary>
    public Qcow2Snapshot? FindSnapshotByNameOrId(string nameOrId) =>
        Snapshots.FirstOrDefault(s => s.Name == nameOrId) ?? Snapshots.FirstOrDefault(s => s.Id == nameOrId);

    private void EnsureOwnSnapshot(Qcow2Snapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        if (!Snapshots.Contains(snapshot))
            throw new ArgumentException($"Snapshot '{snapshot.Name}' (id {snapshot.Id}) is not one of this image's snapshots", nameof(snapshot));
    }

    private void EnsureNoDataFile()
    {
        if ((image.Header.IncompatibleFeatures & Features.ExternalDataFile) != 0)
            throw new NotSupportedException("Internal snapshots are not supported in images with an external data file");
    }
}
