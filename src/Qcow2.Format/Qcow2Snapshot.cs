using System.Text;

namespace Qcow2;

/// <summary>An internal snapshot from the snapshot table (spec §4.5).</summary>
public sealed class Qcow2Snapshot
{
    internal Qcow2Snapshot(SnapshotTableEntry entry)
    {
        Entry = entry;
        Id = Encoding.UTF8.GetString(entry.Id);
        Name = Encoding.UTF8.GetString(entry.Name);
    }

    /// <summary>The entry as stored: a table written back keeps its bytes, unknown extra data included.</summary>
    internal SnapshotTableEntry Entry { get; }

    /// <summary>The snapshot's unique id string.</summary>
    public string Id { get; }

    /// <summary>The snapshot's name.</summary>
    public string Name { get; }

    /// <summary>The offset of the snapshot's L1 table.</summary>
    public long L1TableOffset => (long)Entry.L1TableOffset;

    /// <summary>The number of entries in the snapshot's L1 table.</summary>
    public int L1Size => (int)Entry.L1Size;

    /// <summary>The size of the saved VM state in bytes (the 64-bit value from the extra data when present).</summary>
    public long VmStateSize => Entry.Extra.Size >= 8 ? (long)Entry.Extra.VmStateSizeLarge : Entry.VmStateSize;

    /// <summary>The virtual disk size when the snapshot was taken, or null when the snapshot does not record it.</summary>
    public long? DiskSize => Entry.Extra.Size >= 16 ? (long)Entry.Extra.DiskSize : null;

    /// <summary>
    /// The wall-clock time of the snapshot, in UTC, to the 100 ns a <see cref="DateTimeOffset"/> holds
    /// (<see cref="DateNanoseconds"/> has the stored value exactly).
    /// </summary>
    public DateTimeOffset Date => DateTimeOffset.FromUnixTimeSeconds(Entry.DateSeconds).AddTicks(Entry.DateNanoseconds / 100);

    /// <summary>The sub-second part of <see cref="Date"/> in nanoseconds, exactly as stored.</summary>
    public long DateNanoseconds => Entry.DateNanoseconds;

    /// <summary>The guest clock at the snapshot, in nanoseconds.</summary>
    public long VmClockNanoseconds => (long)Entry.VmClockNanoseconds;

    /// <summary>The guest instruction count, or null when the snapshot does not record it (QEMU stores -1 for that).</summary>
    public long? ICount => Entry.Extra.Size >= SnapshotExtraData.KnownSize && Entry.Extra.Icount is var icount and not ulong.MaxValue
        ? (long)icount : null;
}
