using System.Buffers.Binary;
using BinaryFormat;
using BinarySerialization;

namespace BinaryFormat.Benchmarks;

// The same 104-byte qcow2 version 3 header three ways. All three check the same rules on Read
// (magic, version 2 or 3, cluster bits 9..21, crypt method 0..2) so that the comparison is like for like.

/// <summary>Declared with BinaryFormat; the generator writes Read/Write/Validate.</summary>
[BinaryFormat(ByteOrder.BigEndian)]
public partial struct GeneratedHeader
{
    [Field(0), Magic(0x514649FB)] public uint Magic;
    [Field(4), OneOf(2, 3)] public uint Version;
    [Field(8)] public ulong BackingFileOffset;
    [Field(16)] public uint BackingFileSize;
    [Field(20), Range(9, 21)] public uint ClusterBits;
    [Field(24)] public ulong VirtualSize;
    [Field(32), Range(0, 2)] public uint CryptMethod;
    [Field(36)] public uint L1Size;
    [Field(40)] public ulong L1TableOffset;
    [Field(48)] public ulong RefcountTableOffset;
    [Field(56)] public uint RefcountTableClusters;
    [Field(60)] public uint NbSnapshots;
    [Field(64)] public ulong SnapshotsOffset;
    [Field(72)] public ulong IncompatibleFeatures;
    [Field(80)] public ulong CompatibleFeatures;
    [Field(88)] public ulong AutoclearFeatures;
    [Field(96)] public uint RefcountOrder;
    [Field(100)] public uint HeaderLength;
}

/// <summary>What a careful person writes by hand with BinaryPrimitives.</summary>
public struct HandWrittenHeader
{
    public const int Size = 104;
    public uint Magic;
    public uint Version;
    public ulong BackingFileOffset;
    public uint BackingFileSize;
    public uint ClusterBits;
    public ulong VirtualSize;
    public uint CryptMethod;
    public uint L1Size;
    public ulong L1TableOffset;
    public ulong RefcountTableOffset;
    public uint RefcountTableClusters;
    public uint NbSnapshots;
    public ulong SnapshotsOffset;
    public ulong IncompatibleFeatures;
    public ulong CompatibleFeatures;
    public ulong AutoclearFeatures;
    public uint RefcountOrder;
    public uint HeaderLength;

    public static HandWrittenHeader Read(ReadOnlySpan<byte> source)
    {
        if (source.Length < Size)
            throw new InvalidDataException($"header needs {Size} bytes, but only {source.Length} are available");
        source = source[..Size];
        var h = new HandWrittenHeader
        {
            Magic = BinaryPrimitives.ReadUInt32BigEndian(source),
            Version = BinaryPrimitives.ReadUInt32BigEndian(source[4..]),
            BackingFileOffset = BinaryPrimitives.ReadUInt64BigEndian(source[8..]),
            BackingFileSize = BinaryPrimitives.ReadUInt32BigEndian(source[16..]),
            ClusterBits = BinaryPrimitives.ReadUInt32BigEndian(source[20..]),
            VirtualSize = BinaryPrimitives.ReadUInt64BigEndian(source[24..]),
            CryptMethod = BinaryPrimitives.ReadUInt32BigEndian(source[32..]),
            L1Size = BinaryPrimitives.ReadUInt32BigEndian(source[36..]),
            L1TableOffset = BinaryPrimitives.ReadUInt64BigEndian(source[40..]),
            RefcountTableOffset = BinaryPrimitives.ReadUInt64BigEndian(source[48..]),
            RefcountTableClusters = BinaryPrimitives.ReadUInt32BigEndian(source[56..]),
            NbSnapshots = BinaryPrimitives.ReadUInt32BigEndian(source[60..]),
            SnapshotsOffset = BinaryPrimitives.ReadUInt64BigEndian(source[64..]),
            IncompatibleFeatures = BinaryPrimitives.ReadUInt64BigEndian(source[72..]),
            CompatibleFeatures = BinaryPrimitives.ReadUInt64BigEndian(source[80..]),
            AutoclearFeatures = BinaryPrimitives.ReadUInt64BigEndian(source[88..]),
            RefcountOrder = BinaryPrimitives.ReadUInt32BigEndian(source[96..]),
            HeaderLength = BinaryPrimitives.ReadUInt32BigEndian(source[100..]),
        };
        if (h.Magic != 0x514649FB)
            throw new InvalidDataException($"bad magic 0x{h.Magic:X8}");
        if (h.Version is not (2 or 3))
            throw new InvalidDataException($"version {h.Version} is not one of 2, 3");
        if (h.ClusterBits is < 9 or > 21)
            throw new InvalidDataException($"cluster bits {h.ClusterBits} is outside 9..21");
        if (h.CryptMethod > 2)
            throw new InvalidDataException($"crypt method {h.CryptMethod} is outside 0..2");
        return h;
    }

    public readonly void Write(Span<byte> destination)
    {
        if (destination.Length < Size)
            throw new ArgumentException("destination too short", nameof(destination));
        BinaryPrimitives.WriteUInt32BigEndian(destination, 0x514649FB);
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], Version);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], BackingFileOffset);
        BinaryPrimitives.WriteUInt32BigEndian(destination[16..], BackingFileSize);
        BinaryPrimitives.WriteUInt32BigEndian(destination[20..], ClusterBits);
        BinaryPrimitives.WriteUInt64BigEndian(destination[24..], VirtualSize);
        BinaryPrimitives.WriteUInt32BigEndian(destination[32..], CryptMethod);
        BinaryPrimitives.WriteUInt32BigEndian(destination[36..], L1Size);
        BinaryPrimitives.WriteUInt64BigEndian(destination[40..], L1TableOffset);
        BinaryPrimitives.WriteUInt64BigEndian(destination[48..], RefcountTableOffset);
        BinaryPrimitives.WriteUInt32BigEndian(destination[56..], RefcountTableClusters);
        BinaryPrimitives.WriteUInt32BigEndian(destination[60..], NbSnapshots);
        BinaryPrimitives.WriteUInt64BigEndian(destination[64..], SnapshotsOffset);
        BinaryPrimitives.WriteUInt64BigEndian(destination[72..], IncompatibleFeatures);
        BinaryPrimitives.WriteUInt64BigEndian(destination[80..], CompatibleFeatures);
        BinaryPrimitives.WriteUInt64BigEndian(destination[88..], AutoclearFeatures);
        BinaryPrimitives.WriteUInt32BigEndian(destination[96..], RefcountOrder);
        BinaryPrimitives.WriteUInt32BigEndian(destination[100..], HeaderLength);
    }
}

/// <summary>The reflection-based BinarySerializer package's way: attributes plus a serializer object.</summary>
public sealed class SerializerHeader
{
    [FieldOrder(0)] public uint Magic { get; set; }
    [FieldOrder(1)] public uint Version { get; set; }
    [FieldOrder(2)] public ulong BackingFileOffset { get; set; }
    [FieldOrder(3)] public uint BackingFileSize { get; set; }
    [FieldOrder(4)] public uint ClusterBits { get; set; }
    [FieldOrder(5)] public ulong VirtualSize { get; set; }
    [FieldOrder(6)] public uint CryptMethod { get; set; }
    [FieldOrder(7)] public uint L1Size { get; set; }
    [FieldOrder(8)] public ulong L1TableOffset { get; set; }
    [FieldOrder(9)] public ulong RefcountTableOffset { get; set; }
    [FieldOrder(10)] public uint RefcountTableClusters { get; set; }
    [FieldOrder(11)] public uint NbSnapshots { get; set; }
    [FieldOrder(12)] public ulong SnapshotsOffset { get; set; }
    [FieldOrder(13)] public ulong IncompatibleFeatures { get; set; }
    [FieldOrder(14)] public ulong CompatibleFeatures { get; set; }
    [FieldOrder(15)] public ulong AutoclearFeatures { get; set; }
    [FieldOrder(16)] public uint RefcountOrder { get; set; }
    [FieldOrder(17)] public uint HeaderLength { get; set; }

    /// <summary>BinarySerializer has no declarative range rules; the same checks, applied after deserializing.</summary>
    public void Check()
    {
        if (Magic != 0x514649FB)
            throw new InvalidDataException($"bad magic 0x{Magic:X8}");
        if (Version is not (2 or 3))
            throw new InvalidDataException($"version {Version} is not one of 2, 3");
        if (ClusterBits is < 9 or > 21)
            throw new InvalidDataException($"cluster bits {ClusterBits} is outside 9..21");
        if (CryptMethod > 2)
            throw new InvalidDataException($"crypt method {CryptMethod} is outside 0..2");
    }
}
