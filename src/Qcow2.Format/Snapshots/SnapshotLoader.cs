using System.Buffers;
using BinaryFormat;

namespace Qcow2;

/// <summary>Reads the snapshot table as <c>qcow2_read_snapshots</c> does, entry by entry, with its limits.</summary>
internal static class SnapshotLoader
{
    /// <summary>The bytes read at a time: a table of a few hundred snapshots in one read.</summary>
    private const int ReadSize = 64 * 1024;

    public static List<Qcow2Snapshot> Load(IImageStorage storage, ulong tableOffset, uint count)
    {
        var snapshots = new List<Qcow2Snapshot>((int)Math.Min(count, 1024));
        var window = new ReadWindow(storage);
        try
        {
            var offset = (long)tableOffset;
            for (var i = 0; i < count; i++)
            {
                offset = Align.Up8(offset);
                var entry = ReadEntry(ref window, offset, i);
                offset += entry.GetEncodedSize();
                if (offset - (long)tableOffset > Limits.MaxSnapshotTableBytes)
                    throw Qcow2FormatException.ForField("Snapshot table is too big", "Qcow2Header.NbSnapshots", 60, count,
                        $"snapshots need more than {Limits.MaxSnapshotTableBytes} bytes (entry {i} ends at {offset})");
                snapshots.Add(new Qcow2Snapshot(entry));
            }
        }
        finally
        {
            window.Dispose();
        }
        return snapshots;
    }

    private static SnapshotTableEntry ReadEntry(ref ReadWindow window, long offset, int index)
    {
        while (true)
        {
            if (SnapshotTableEntry.TryRead(window.From(offset), offset, out var entry, out _, out var error))
                return entry;
            if (error.Rule != BinaryFormatRule.ShortInput)
                throw Qcow2FormatException.FromRule($"Too much extra metadata in snapshot table entry {index}", error);
            window.Fill(offset, error.BytesNeeded);
        }
    }

    /// <summary>The table bytes read so far: few large reads instead of one per field.</summary>
    private struct ReadWindow(IImageStorage storage) : IDisposable
    {
        private byte[] buffer = [];
        private long start;
        private int length;

        public readonly ReadOnlySpan<byte> From(long offset) =>
            offset >= start && offset - start <= length ? buffer.AsSpan((int)(offset - start), length - (int)(offset - start)) : default;

        /// <summary>Reads at least <paramref name="needed"/> bytes from <paramref name="offset"/>.</summary>
        public void Fill(long offset, long needed)
        {
            Addressable.Require((ulong)offset, (ulong)needed, "Failed to read snapshot table", "Qcow2Header.SnapshotsOffset", 64);
            var size = (int)Math.Min(Math.Max(needed, ReadSize), (long)(Addressable.MaxLength - (ulong)offset));
            if (buffer.Length < size)
            {
                Dispose();
                buffer = ArrayPool<byte>.Shared.Rent(size);
            }
            storage.Read(offset, buffer.AsSpan(0, size));
            start = offset;
            length = size;
        }

        public readonly void Dispose()
        {
            if (buffer.Length > 0)
                ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
