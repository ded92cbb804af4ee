using BinaryFormat;

namespace Qcow2;

/// <summary>An internal snapshot from the snapshot table (spec §4.5).</summary>
public sealed class Qcow2Snapshot
{
    internal Qcow2Snapshot(string id, string name, SnapshotTableEntryHeader entry, long vmStateSize, long? icount)
    {
        Id = id;
        Name = name;
        Entry = entry;
        VmStateSize = vmStateSize;
        ICount = icount;
    }

    internal SnapshotTableEntryHeader Entry { get; }

    /// <summary>The snapshot's unique id string.</summary>
    public string Id { get; }

    /// <summary>The snapshot's name.</summary>
    public string Name { get; }

    /// <summary>The offset of the snapshot's L1 table.</summary>
    public long L1TableOffset => (long)Entry.L1TableOffset;

    /// <summary>The number of entries in the snapshot's L1 table.</summary>
    public int L1Size => (int)Entry.L1Size;

    /// <summary>The size of the saved VM state in bytes (the 64-bit value from the extra data when present).</summary>
    public long VmStateSize { get; }

    /// <summary>Wall-clock time of the snapshot, seconds since the epoch.</summary>
    public long DateSeconds => Entry.DateSeconds;

    /// <summary>The nanoseconds part of the wall-clock time.</summary>
    public long DateNanoseconds => Entry.DateNanoseconds;

    /// <summary>The guest clock at the snapshot, in nanoseconds.</summary>
    public long VmClockNanoseconds => (long)Entry.VmClockNanoseconds;

    /// <summary>The guest instruction count, or null when the snapshot does not record it.</summary>
    public long? ICount { get; }
}
