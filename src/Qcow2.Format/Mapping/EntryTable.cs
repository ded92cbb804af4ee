using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Qcow2;

/// <summary>
/// Bulk reads of tables of 64-bit big-endian entries: L1 tables, refcount tables, bitmap tables. Tables bounded by QEMU's limits
/// (L1: 32 MiB, refcount table: 8 MiB) are read whole; larger ones through <see cref="EntryTableReader"/> in chunks.
/// </summary>
internal static class EntryTable
{
    /// <summary>The entries one chunked read fetches (64 KiB): big enough to amortise the call, small enough to stay in cache.</summary>
    public const int ChunkEntries = 8192;

    public static ulong[] Read(IImageStorage storage, long offset, int count)
    {
        // Read straight into the result and swap in place: a table claimed at the 32 MiB limit costs 32 MiB, not twice that.
        var entries = new ulong[count];
        ReadInto(storage, offset, entries);
        return entries;
    }

    /// <summary>Fills <paramref name="entries"/> from the table at <paramref name="offset"/>.</summary>
    public static void ReadInto(IImageStorage storage, long offset, Span<ulong> entries)
    {
        storage.Read(offset, MemoryMarshal.AsBytes(entries));
        if (BitConverter.IsLittleEndian)
            BinaryPrimitives.ReverseEndianness(entries, entries);
    }

    /// <summary>Writes <paramref name="entries"/> as one big-endian table at <paramref name="offset"/> with one write.</summary>
    public static void Write(IImageStorage storage, long offset, ReadOnlySpan<ulong> entries)
    {
        var bytes = new byte[entries.Length * sizeof(ulong)];
        for (var i = 0; i < entries.Length; i++)
            BinaryPrimitives.WriteUInt64BigEndian(bytes.AsSpan(i * sizeof(ulong)), entries[i]);
        storage.Write(offset, bytes);
    }
}
