using System.Buffers.Binary;

namespace Qcow2;

/// <summary>Bulk reads of 64-bit big-endian tables (L1, L2, reftable).</summary>
internal static class EntryTable
{
    public static ulong[] Read(IImageStorage storage, long offset, int count)
    {
        // Read straight into the result and swap in place: a table claimed at the 32 MiB limit costs 32 MiB, not twice that.
        var entries = new ulong[count];
        var bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(entries.AsSpan());
        storage.Read(offset, bytes);
        if (BitConverter.IsLittleEndian)
            BinaryPrimitives.ReverseEndianness(entries, entries);
        return entries;
    }

    /// <summary>Writes <paramref name="entries"/> big-endian at <paramref name="offset"/> with one write.</summary>
    public static void Write(IImageStorage storage, long offset, ReadOnlySpan<ulong> entries)
    {
        var bytes = new byte[entries.Length * sizeof(ulong)];
        for (var i = 0; i < entries.Length; i++)
            BinaryPrimitives.WriteUInt64BigEndian(bytes.AsSpan(i * sizeof(ulong)), entries[i]);
        storage.Write(offset, bytes);
    }
}
