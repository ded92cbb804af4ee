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
}
