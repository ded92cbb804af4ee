namespace Qcow2;

/// <summary>
/// A table of 64-bit big-endian entries (a bitmap table, or any table too large to hold at once) read in chunks of
/// <see cref="EntryTable.ChunkEntries"/> entries as it is walked. Entries past the end of the file read as zero without any
/// I/O (QEMU reads zeros there too), so a small file that claims a 512 MiB table costs nothing.
/// </summary>
internal sealed class EntryTableReader
{
    private readonly IImageStorage storage;
    private readonly long offset;
    private readonly ulong[] chunk;
    private long chunkStart = -1;
    private int chunkCount;

    public EntryTableReader(IImageStorage storage, long offset, long count)
    {
        this.storage = storage;
        this.offset = offset;
        Count = count;
        InFile = offset < 0 ? 0 : Math.Clamp((storage.Length - offset) / sizeof(ulong), 0, count);
        chunk = new ulong[Math.Min(Math.Max(InFile, 1), EntryTable.ChunkEntries)];
    }

    /// <summary>A reader over the table of <paramref name="bitmap"/>.</summary>
    public static EntryTableReader ForBitmap(IImageStorage storage, Qcow2Bitmap bitmap) => new(storage, bitmap.TableOffset, bitmap.TableSize);

    /// <summary>The number of entries the table has.</summary>
    public long Count { get; }

    /// <summary>The entries [0, InFile) lie inside the file (as long as it does not shrink); the rest read as zero.</summary>
    public long InFile { get; }

    /// <summary>The file offset of entry <paramref name="index"/>.</summary>
    public long OffsetOf(long index) => offset + index * sizeof(ulong);

    public ulong this[long index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfNegative(index);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
            if (index >= InFile)
                return 0;
            if (chunkStart < 0 || index < chunkStart || index >= chunkStart + chunkCount)
            {
                chunkStart = index / EntryTable.ChunkEntries * EntryTable.ChunkEntries;
                chunkCount = (int)Math.Min(EntryTable.ChunkEntries, InFile - chunkStart);
                EntryTable.ReadInto(storage, OffsetOf(chunkStart), chunk.AsSpan(0, chunkCount));
            }
            return chunk[index - chunkStart];
        }
    }
}
