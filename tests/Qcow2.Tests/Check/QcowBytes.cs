using System.Buffers.Binary;

namespace Qcow2.Tests.Check;

/// <summary>
/// Reads and edits the raw bytes of a qcow2 file, independently of the library under test, so that the test images can be
/// damaged in exactly one place. Every offset is computed from the header (cluster size, L1 and refcount table offsets,
/// refcount width, extended L2), never hard-coded.
/// </summary>
public sealed class QcowBytes
{
    public const ulong OffsetMask = 0x00FFFFFFFFFFFE00;
    public const ulong CopiedFlag = 1UL << 63;
    public const ulong CompressedFlag = 1UL << 62;

    public QcowBytes(string path) => Path = path;

    public string Path { get; }

    // ---- Header (spec §1.1) ----

    public uint Version => ReadU32(4);
    public int ClusterBits => (int)ReadU32(20);
    public long ClusterSize => 1L << ClusterBits;
    public ulong VirtualSize => ReadU64(24);
    public uint L1Size => ReadU32(36);
    public long L1Offset => (long)ReadU64(40);
    public long RefcountTableOffset => (long)ReadU64(48);
    public uint RefcountTableClusters => ReadU32(56);
    public uint SnapshotCount => ReadU32(60);
    public long SnapshotsOffset => (long)ReadU64(64);
    // Version 2 headers end at byte 72: no feature bits, 16-bit refcounts.
    public ulong IncompatibleFeatures => Version >= 3 ? ReadU64(72) : 0;
    public ulong AutoclearFeatures
    {
        get => Version >= 3 ? ReadU64(88) : 0;
        set => WriteU64(Version >= 3 ? 88 : throw new InvalidOperationException("version 2 has no autoclear bits"), value);
    }
    public int RefcountOrder => Version >= 3 ? (int)ReadU32(96) : 4;
    public int RefcountBits => 1 << RefcountOrder;
    public bool IsDirty => (IncompatibleFeatures & 1) != 0;
    public bool IsCorrupt => (IncompatibleFeatures & 2) != 0;
    public bool ExtendedL2 => (IncompatibleFeatures & 16) != 0;
    public int L2EntrySize => ExtendedL2 ? 16 : 8;
    public long L2Entries => ClusterSize / L2EntrySize;
    public long FileLength => new FileInfo(Path).Length;
    public long FileClusters => (FileLength + ClusterSize - 1) >> ClusterBits;
    public long RefcountsPerBlock => ClusterSize * 8 / RefcountBits;

    // ---- L1 / L2 (spec §4.1-4.3) ----

    public long L1EntryOffset(long index) => L1Offset + index * 8;

    public ulong L1Entry(long index) => ReadU64(L1EntryOffset(index));

    public void SetL1Entry(long index, ulong value) => WriteU64(L1EntryOffset(index), value);

    /// <summary>The file offset of the (first word of the) L2 entry that maps a guest offset in the active L1.</summary>
    public long L2EntryOffset(long guestOffset)
    {
        var guestCluster = guestOffset >> ClusterBits;
        var l1Index = guestCluster / L2Entries;
        var l2Table = (long)(L1Entry(l1Index) & OffsetMask);
        if (l2Table == 0)
            throw new InvalidOperationException($"guest offset {guestOffset} has no L2 table");
        return l2Table + guestCluster % L2Entries * L2EntrySize;
    }

    public ulong L2Entry(long guestOffset) => ReadU64(L2EntryOffset(guestOffset));

    public void SetL2Entry(long guestOffset, ulong value) => WriteU64(L2EntryOffset(guestOffset), value);

    /// <summary>Extended L2 only: the subcluster bitmap word (bits 0-31 allocated, 32-63 reads as zero).</summary>
    public ulong L2Bitmap(long guestOffset) => ExtendedL2 ? ReadU64(L2EntryOffset(guestOffset) + 8) : throw new InvalidOperationException("not extended L2");

    public void SetL2Bitmap(long guestOffset, ulong value) =>
        WriteU64(ExtendedL2 ? L2EntryOffset(guestOffset) + 8 : throw new InvalidOperationException("not extended L2"), value);

    /// <summary>The L1 table offset recorded in the first snapshot table entry (spec §4.5: its first 8 bytes).</summary>
    public ulong FirstSnapshotL1Offset
    {
        get => ReadU64(SnapshotsOffset);
        set => WriteU64(SnapshotsOffset, value);
    }

    /// <summary>The host cluster index of the L2 table of a guest offset.</summary>
    public long L2TableCluster(long guestOffset) =>
        (long)(L1Entry((guestOffset >> ClusterBits) / L2Entries) & OffsetMask) >> ClusterBits;

    /// <summary>The host cluster index holding a (normal, uncompressed) guest cluster.</summary>
    public long DataCluster(long guestOffset)
    {
        var entry = L2Entry(guestOffset);
        if ((entry & CompressedFlag) != 0 || (entry & OffsetMask) == 0)
            throw new InvalidOperationException($"guest offset {guestOffset} is not a normal allocated cluster: {entry:x}");
        return (long)(entry & OffsetMask) >> ClusterBits;
    }

    // ---- Refcounts (spec §4.4) ----

    public long RefcountTableEntryOffset(long index) => RefcountTableOffset + index * 8;

    public ulong RefcountTableEntry(long index) => ReadU64(RefcountTableEntryOffset(index));

    public void SetRefcountTableEntry(long index, ulong value) => WriteU64(RefcountTableEntryOffset(index), value);

    public ulong Refcount(long cluster)
    {
        var (byteOffset, width, shift) = RefcountLocation(cluster);
        if (byteOffset < 0)
            return 0;
        var bytes = Read(byteOffset, Math.Max(1, width / 8));
        return width switch
        {
            < 8 => ((ulong)bytes[0] >> shift) & ((1UL << width) - 1),
            8 => bytes[0],
            16 => BinaryPrimitives.ReadUInt16BigEndian(bytes),
            32 => BinaryPrimitives.ReadUInt32BigEndian(bytes),
            _ => BinaryPrimitives.ReadUInt64BigEndian(bytes),
        };
    }

    public void SetRefcount(long cluster, ulong value)
    {
        var (byteOffset, width, shift) = RefcountLocation(cluster);
        if (byteOffset < 0)
            throw new InvalidOperationException($"cluster {cluster} has no refcount block");
        if (width < 64 && value >> width != 0)
            throw new ArgumentOutOfRangeException(nameof(value), $"{value} does not fit {width} bits");
        var bytes = Read(byteOffset, Math.Max(1, width / 8));
        switch (width)
        {
            case < 8:
                var mask = (byte)(((1 << width) - 1) << shift);
                bytes[0] = (byte)((bytes[0] & ~mask) | ((int)value << shift));
                break;
            case 8: bytes[0] = (byte)value; break;
            case 16: BinaryPrimitives.WriteUInt16BigEndian(bytes, (ushort)value); break;
            case 32: BinaryPrimitives.WriteUInt32BigEndian(bytes, (uint)value); break;
            default: BinaryPrimitives.WriteUInt64BigEndian(bytes, value); break;
        }
        Write(byteOffset, bytes);
    }

    /// <summary>Where a cluster's refcount lives: byte offset in the file (−1 when no block), width, bit shift (widths below 8, LSB first).</summary>
    private (long ByteOffset, int Width, int Shift) RefcountLocation(long cluster)
    {
        var width = RefcountBits;
        var block = RefcountTableEntry(cluster / RefcountsPerBlock) & ~0x1FFUL;
        if (block == 0)
            return (-1, width, 0);
        var index = cluster % RefcountsPerBlock;
        return ((long)block + index * width / 8, width, width < 8 ? (int)(index % (8 / width) * width) : 0);
    }

    // ---- Convenience edits ----

    /// <summary>Grows the file to whole clusters plus one more, and gives that unreferenced cluster refcount 1: a leak.</summary>
    public long AddLeakedCluster()
    {
        var cluster = FileClusters;
        var length = (cluster + 1) * ClusterSize;
        using (var stream = new FileStream(Path, FileMode.Open, FileAccess.Write))
            stream.SetLength(length);
        SetRefcount(cluster, 1);
        return cluster;
    }

    // ---- Raw access ----

    public uint ReadU32(long offset) => BinaryPrimitives.ReadUInt32BigEndian(Read(offset, 4));

    public ulong ReadU64(long offset) => BinaryPrimitives.ReadUInt64BigEndian(Read(offset, 8));

    public void WriteU64(long offset, ulong value)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, value);
        Write(offset, bytes);
    }

    public byte[] Read(long offset, int count)
    {
        using var stream = File.OpenRead(Path);
        var bytes = new byte[count];
        stream.Position = offset;
        stream.ReadExactly(bytes);
        return bytes;
    }

    public void Write(long offset, byte[] bytes)
    {
        using var stream = new FileStream(Path, FileMode.Open, FileAccess.Write);
        stream.Position = offset;
        stream.Write(bytes);
    }
}
