using System.Buffers.Binary;

namespace Qcow2;

/// <summary>
/// QEMU's in-place single-field header updates (spec §6): one small write of the fields that must change together, then a
/// flush, then the in-memory header follows. Used where a full cluster-0 rewrite is not needed and the order of writes is
/// what keeps a crash harmless.
/// </summary>
internal static class HeaderFieldUpdates
{
    /// <summary>Bytes 24-31: the virtual size.</summary>
    public static void WriteVirtualSize(IImageStorage storage, ImageMetadata image, ulong size)
    {
        Span<byte> raw = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(raw, size);
        Commit(storage, 24, raw);
        image.Header.VirtualSize = size;
    }

    /// <summary>Bytes 36-47: switches to another active L1 table (l1_size and l1_table_offset in one write).</summary>
    public static void SwitchL1Table(IImageStorage storage, ImageMetadata image, uint size, long offset)
    {
        CommitCountAndOffset(storage, 36, size, offset);
        image.Header.L1Size = size;
        image.Header.L1TableOffset = (ulong)offset;
    }

    /// <summary>Bytes 48-59: switches to another refcount table (offset and clusters in one write).</summary>
    public static void SwitchRefcountTable(IImageStorage storage, ImageMetadata image, long offset, uint clusters)
    {
        Span<byte> raw = stackalloc byte[12];
        BinaryPrimitives.WriteUInt64BigEndian(raw, (ulong)offset);
        BinaryPrimitives.WriteUInt32BigEndian(raw[8..], clusters);
        Commit(storage, 48, raw);
        image.Header.RefcountTableOffset = (ulong)offset;
        image.Header.RefcountTableClusters = clusters;
    }

    /// <summary>Bytes 72-79: the incompatible features (QEMU's <c>qcow2_mark_dirty</c> / <c>qcow2_mark_clean</c>).</summary>
    public static void WriteIncompatibleFeatures(IImageStorage storage, ImageMetadata image, ulong features)
    {
        Span<byte> raw = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(raw, features);
        Commit(storage, 72, raw);
        image.Header.IncompatibleFeatures = features;
    }

    /// <summary>Bytes 60-71: switches to another snapshot table (nb_snapshots and snapshots_offset in one write).</summary>
    public static void SwitchSnapshotTable(IImageStorage storage, ImageMetadata image, uint count, long offset)
    {
        CommitCountAndOffset(storage, 60, count, offset);
        image.Header.NbSnapshots = count;
        image.Header.SnapshotsOffset = (ulong)offset;
    }

    /// <summary>A table switch where the header keeps a 32-bit entry count right before the 64-bit table offset.</summary>
    private static void CommitCountAndOffset(IImageStorage storage, long position, uint count, long offset)
    {
        Span<byte> raw = stackalloc byte[12];
        BinaryPrimitives.WriteUInt32BigEndian(raw, count);
        BinaryPrimitives.WriteUInt64BigEndian(raw[4..], (ulong)offset);
        Commit(storage, position, raw);
    }

    private static void Commit(IImageStorage storage, long offset, ReadOnlySpan<byte> raw)
    {
        storage.Write(offset, raw);
        storage.Flush();
    }
}
