using System.Buffers.Binary;

namespace Qcow2;

/// <summary>An L1 table entry (spec §4.2): the offset of an L2 table plus the COPIED flag.</summary>
internal readonly record struct L1Entry(ulong Value)
{
    public const ulong OffsetMask = 0x00FFFFFFFFFFFE00;
    public const ulong ReservedMask = 0x7F000000000001FF;
    public const ulong CopiedFlag = 1UL << 63;

    public ulong L2Offset => Value & OffsetMask;
    public bool Copied => (Value & CopiedFlag) != 0;
    public bool HasReservedBits => (Value & ReservedMask) != 0;
}

/// <summary>The first (or only) 64-bit word of an L2 entry (spec §4.3).</summary>
internal readonly record struct L2Entry(ulong Value)
{
    public const ulong OffsetMask = 0x00FFFFFFFFFFFE00;
    public const ulong ReservedMask = 0x3F000000000001FE;
    public const ulong CopiedFlag = 1UL << 63;
    public const ulong CompressedFlag = 1UL << 62;
    public const ulong ZeroFlag = 1;

    public bool Copied => (Value & CopiedFlag) != 0;
    public bool Compressed => (Value & CompressedFlag) != 0;
    public bool ReadsAsZero => !Compressed && (Value & ZeroFlag) != 0;
    public ulong HostOffset => Compressed ? 0 : Value & OffsetMask;
    public bool HasReservedBits => !Compressed && (Value & ReservedMask) != 0;

    /// <summary>
    /// The host byte range of a compressed cluster (spec §4.3): the offset is the low 62 − (cluster_bits − 8) bits, then the
    /// number of additional 512-byte sectors; the length is those sectors minus the offset into the first one.
    /// </summary>
    public (long Offset, long Length) CompressedRange(int clusterBits)
    {
        var shift = 62 - (clusterBits - 8);
        var offset = Value & ((1UL << shift) - 1);
        var sectors = ((Value >> shift) & ((1UL << (clusterBits - 8)) - 1)) + 1;
        return ((long)offset, (long)(sectors * 512 - (offset & 511)));
    }

    /// <summary>
    /// QEMU's <c>qcow2_get_subcluster_type</c> for subcluster <paramref name="index"/> (0 for a standard entry): with extended L2
    /// entries the allocation and zero bitmaps decide, and the standard zero flag is ignored. An entry with offset 0 is
    /// unallocated, except in an image with an external data file, where COPIED marks offset 0 as data (spec §4.3).
    /// </summary>
    public SubclusterType Classify(ulong bitmap, int index, bool extendedL2, bool externalData)
    {
        if (Compressed)
            return extendedL2 && bitmap != 0 ? SubclusterType.Invalid : SubclusterType.Compressed;
        var allocated = (Value & OffsetMask) != 0 || (externalData && Copied);
        if (!extendedL2)
        {
            if ((Value & ZeroFlag) != 0)
                return allocated ? SubclusterType.ZeroAllocated : SubclusterType.ZeroPlain;
            return allocated ? SubclusterType.Normal : SubclusterType.UnallocatedPlain;
        }
        var alloc = (uint)bitmap;
        var zero = (uint)(bitmap >> 32);
        if (allocated)
        {
            if ((alloc & zero) != 0)
                return SubclusterType.Invalid;
            if ((zero >> index & 1) != 0)
                return SubclusterType.ZeroAllocated;
            return (alloc >> index & 1) != 0 ? SubclusterType.Normal : SubclusterType.UnallocatedAllocated;
        }
        if (alloc != 0)
            return SubclusterType.Invalid;
        return (zero >> index & 1) != 0 ? SubclusterType.ZeroPlain : SubclusterType.UnallocatedPlain;
    }
}

/// <summary>QEMU's <c>QCow2SubclusterType</c>: what a (sub)cluster of guest data reads as.</summary>
internal enum SubclusterType
{
    /// <summary>Host data (in the image or the external data file).</summary>
    Normal,
    /// <summary>A compressed cluster.</summary>
    Compressed,
    /// <summary>Reads as zeros; a host cluster stays allocated (preallocated zero).</summary>
    ZeroAllocated,
    /// <summary>Reads as zeros; no host cluster.</summary>
    ZeroPlain,
    /// <summary>Reads from the backing file (or as zeros); the cluster has a host cluster for other subclusters.</summary>
    UnallocatedAllocated,
    /// <summary>Reads from the backing file (or as zeros).</summary>
    UnallocatedPlain,
    /// <summary>Contradictory bitmap bits: QEMU refuses the I/O.</summary>
    Invalid,
}

/// <summary>The guest address split of an image (spec §4.1).</summary>
internal readonly record struct L1L2Geometry(int ClusterBits, bool ExtendedL2)
{
    /// <summary>L2 entries per table: cs/8, or cs/16 with 128-bit extended entries.</summary>
    public long L2Entries => 1L << (ClusterBits - (ExtendedL2 ? 4 : 3));

    /// <summary>The L1 entries needed for <paramref name="virtualSize"/>: ceil(size / (cs · l2_entries)), without overflow.</summary>
    public ulong RequiredL1Entries(ulong virtualSize)
    {
        var shift = ClusterBits + (ClusterBits - (ExtendedL2 ? 4 : 3));
        return (virtualSize >> shift) + ((virtualSize & ((1UL << shift) - 1)) != 0 ? 1UL : 0UL);
    }
}

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
