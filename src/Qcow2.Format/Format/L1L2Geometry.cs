using System.Buffers.Binary;

namespace Qcow2;

/// <summary>The guest address split of an image and the layout of its L2 tables (spec §4.1, §4.3).</summary>
internal readonly record struct L1L2Geometry(int ClusterBits, bool ExtendedL2)
{
    /// <summary>log2 of <see cref="L2EntryBytes"/>: standard entries are 64 bits, extended ones 128 (entry plus subcluster bitmap).</summary>
    public int L2EntryBits => ExtendedL2 ? 4 : 3;

    /// <summary>The size of one L2 entry in bytes: 8, or 16 with extended entries.</summary>
    public int L2EntryBytes => 1 << L2EntryBits;

    /// <summary>L2 entries per table: cs/8, or cs/16 with 128-bit extended entries.</summary>
    public long L2Entries => 1L << (ClusterBits - L2EntryBits);

    /// <summary>The L1 entries needed for <paramref name="virtualSize"/>: ceil(size / (cs · l2_entries)), without overflow.</summary>
    public ulong RequiredL1Entries(ulong virtualSize)
    {
        var shift = ClusterBits + (ClusterBits - L2EntryBits);
        return (virtualSize >> shift) + ((virtualSize & ((1UL << shift) - 1)) != 0 ? 1UL : 0UL);
    }

    /// <summary>Entry <paramref name="index"/> of an L2 table held in <paramref name="table"/>.</summary>
    public L2Entry ReadEntry(ReadOnlySpan<byte> table, long index) =>
        new(BinaryPrimitives.ReadUInt64BigEndian(table[(int)(index << L2EntryBits)..]));

    /// <summary>The subcluster bitmap of entry <paramref name="index"/>; 0 for standard entries.</summary>
    public L2Bitmap ReadBitmap(ReadOnlySpan<byte> table, long index) =>
        new(ExtendedL2 ? BinaryPrimitives.ReadUInt64BigEndian(table[((int)(index << L2EntryBits) + 8)..]) : 0);

    public void WriteEntry(Span<byte> table, long index, L2Entry entry) =>
        BinaryPrimitives.WriteUInt64BigEndian(table[(int)(index << L2EntryBits)..], entry.Value);

    /// <summary>Writes the subcluster bitmap of entry <paramref name="index"/> (extended entries only).</summary>
    public void WriteBitmap(Span<byte> table, long index, L2Bitmap bitmap)
    {
        if (!ExtendedL2)
            throw new InvalidOperationException("Standard L2 entries have no subcluster bitmap.");
        BinaryPrimitives.WriteUInt64BigEndian(table[((int)(index << L2EntryBits) + 8)..], bitmap.Value);
    }

    /// <summary>The bytes of entry <paramref name="index"/> (entry and bitmap) within a table.</summary>
    public Range EntryRange(long index) => new((int)(index << L2EntryBits), (int)((index + 1) << L2EntryBits));
}
