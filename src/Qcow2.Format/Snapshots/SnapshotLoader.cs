using System.Text;
using BinaryFormat;

namespace Qcow2;

/// <summary>Reads the snapshot table as <c>qcow2_read_snapshots</c> does, with its limits.</summary>
internal static class SnapshotLoader
{
    public static List<Qcow2Snapshot> Load(IImageStorage storage, ulong tableOffset, uint count, long clusterSize)
    {
        var context = new ValidationContext().Set(ContextKeys.ClusterSize, clusterSize);
        var snapshots = new List<Qcow2Snapshot>((int)Math.Min(count, 1024));
        var offset = (long)tableOffset;
        Span<byte> fixedPart = stackalloc byte[SnapshotTableEntryHeader.Size];
        for (var i = 0; i < count; i++)
        {
            offset = Align.Up8(offset);
            var entryOffset = offset;
            Read(storage, offset, fixedPart);
            var entry = SnapshotTableEntryHeader.ReadUnchecked(fixedPart);
            offset += SnapshotTableEntryHeader.Size;
            var errors = entry.Validate(context, entryOffset);
            if (errors.FirstOrDefault(e => e.MemberPath == nameof(SnapshotTableEntryHeader.ExtraDataSize)) is { } extra)
                throw Qcow2FormatException.FromRule($"Too much extra metadata in snapshot table entry {i}", extra);

            var extraData = new byte[entry.ExtraDataSize];
            Read(storage, offset, extraData);
            offset += entry.ExtraDataSize;

            var id = ReadString(storage, offset, entry.IdSize);
            offset += entry.IdSize;
            var name = ReadString(storage, offset, entry.NameSize);
            offset += entry.NameSize;
            if (offset - (long)tableOffset > Limits.MaxSnapshotTableBytes)
                throw Qcow2FormatException.ForField("Snapshot table is too big", "Qcow2Header.NbSnapshots", 60, count,
                    $"snapshots need more than {Limits.MaxSnapshotTableBytes} bytes (entry {i} ends at {offset})");
            snapshots.Add(new Qcow2Snapshot(id, name, entry, extraData));
        }
        return snapshots;
    }

    private static string ReadString(IImageStorage storage, long offset, int length)
    {
        var bytes = new byte[length];
        Read(storage, offset, bytes);
        return Encoding.UTF8.GetString(bytes);
    }

    private static void Read(IImageStorage storage, long offset, Span<byte> buffer)
    {
        Addressable.Require((ulong)offset, (ulong)buffer.Length, "Failed to read snapshot table", "Qcow2Header.SnapshotsOffset", 64);
        storage.Read(offset, buffer);
    }
}
