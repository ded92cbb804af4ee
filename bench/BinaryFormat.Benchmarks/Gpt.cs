using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.CompilerServices;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;

namespace BinaryFormat.Benchmarks;

[InlineArray(16)]
public struct Guid16
{
    private byte element;
}

[InlineArray(72)]
public struct Name72
{
    private byte element;
}

[BinaryFormat(ByteOrder.LittleEndian)]
public partial struct GptHeader
{
    [Field, Magic(0x5452415020494645)] public ulong Signature;
    [Field] public uint Revision;
    [Field, OneOf(92)] public uint HeaderSize;
    [Field, Checksum(ChecksumAlgorithm.Crc32, To = nameof(EntryArrayCrc))] public uint HeaderCrc;
    [Field, Reserved] public uint Reserved;
    [Field] public ulong CurrentLba;
    [Field] public ulong BackupLba;
    [Field] public ulong FirstUsableLba;
    [Field] public ulong LastUsableLba;
    [Field] public Guid16 DiskGuid;
    [Field] public ulong EntryArrayLba;
    [Field, OneOf(128)] public uint EntryCount;
    [Field, OneOf(128)] public uint EntrySize;
    [Field] public uint EntryArrayCrc;
}

[BinaryFormat(ByteOrder.LittleEndian, GenerateView = true)]
public partial struct GptEntry
{
    [Field] public Guid16 Type;
    [Field] public Guid16 Unique;
    [Field] public ulong FirstLba;
    [Field] public ulong LastLba;
    [Field] public ulong Attributes;
    [Field] public Name72 Name;
}

/// <summary>
/// A GPT header plus its 128 entries: read with both CRC checks and every entry, and written with both CRCs computed;
/// generated (declared header, entries walked as generated views, <see cref="BinaryLayout.Views{TView}"/>) against
/// hand-written BinaryPrimitives code. Neither validates the entries one by one (GptEntry declares no rules); both check
/// the header's fields and both CRCs. ReadGeneratedRecords walks the entries with <see cref="BinaryLayout.Records{T}"/>
/// instead, which copies each 128-byte entry whole, for comparison.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
[MedianColumn]
public class GptBenchmarks
{
    private const int HeaderSize = 92;
    private readonly byte[] disk = new byte[512 + 128 * 128];
    private readonly byte[] destination = new byte[512 + 128 * 128];
    private GptHeader header;
    private readonly GptEntry[] entries = new GptEntry[128];

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        for (var i = 0; i < 4; i++)
        {
            var entry = new GptEntry { FirstLba = (ulong)(2048 + i * 1000), LastLba = (ulong)(2048 + i * 1000 + 999) };
            random.NextBytes(entry.Type);
            random.NextBytes(entry.Unique);
            "p\0a\0r\0t\0"u8.CopyTo(entry.Name);
            entries[i] = entry;
        }
        header = new GptHeader
        {
            Revision = 0x10000, HeaderSize = HeaderSize, CurrentLba = 1, BackupLba = 1_000_000, FirstUsableLba = 34,
            LastUsableLba = 999_966, EntryArrayLba = 2, EntryCount = 128, EntrySize = 128,
        };
        if (WriteGenerated() != WriteHandWritten())
            throw new InvalidOperationException("generated and hand-written writers disagree");
        destination.CopyTo(disk, 0);
        if (ReadGenerated() != ReadHandWritten() || ReadGeneratedRecords() != ReadHandWritten() || ReadGenerated() == 0)
            throw new InvalidOperationException("generated and hand-written readers disagree");
    }

    [Benchmark(Baseline = true), BenchmarkCategory("Read")]
    public ulong ReadHandWritten()
    {
        var span = disk.AsSpan();
        var h = span.Slice(0, HeaderSize);
        if (BinaryPrimitives.ReadUInt64LittleEndian(h) != 0x5452415020494645 || BinaryPrimitives.ReadUInt32LittleEndian(h[12..]) != HeaderSize
            || BinaryPrimitives.ReadUInt32LittleEndian(h[20..]) != 0)
            throw new InvalidDataException("bad GPT header");
        var crc = new Crc32();
        Span<byte> zero = stackalloc byte[4];
        zero.Clear();
        crc.Append(h[..16]);
        crc.Append(zero);
        crc.Append(h[20..]);
        if (crc.GetCurrentHashAsUInt32() != BinaryPrimitives.ReadUInt32LittleEndian(h[16..]))
            throw new InvalidDataException("bad GPT header CRC");
        var count = BinaryPrimitives.ReadUInt32LittleEndian(h[80..]);
        var size = BinaryPrimitives.ReadUInt32LittleEndian(h[84..]);
        if (count != 128 || size != 128)
            throw new InvalidDataException("bad GPT entry array");
        var table = span.Slice(512, (int)(count * size));
        if (Crc32.HashToUInt32(table) != BinaryPrimitives.ReadUInt32LittleEndian(h[88..]))
            throw new InvalidDataException("bad GPT entry array CRC");
        ulong sum = 0;
        for (var i = 0; i < count; i++)
        {
            var e = table.Slice(i * (int)size, 128);
            sum += BinaryPrimitives.ReadUInt64LittleEndian(e[32..]) + BinaryPrimitives.ReadUInt64LittleEndian(e[40..]) + e[0];
        }
        return sum;
    }

    [Benchmark, BenchmarkCategory("Read")]
    public ulong ReadGenerated()
    {
        var span = disk.AsSpan();
        var h = GptHeader.Read(span, 0);
        var table = span.Slice(512, (int)(h.EntryCount * h.EntrySize));
        if (BinaryChecksum.Compute(ChecksumAlgorithm.Crc32, table, 0, table.Length, -4) != h.EntryArrayCrc)
            throw new InvalidDataException("bad GPT entry array CRC");
        ulong sum = 0;
        foreach (var e in BinaryLayout.Views<GptEntry.View>(table, (int)h.EntryCount, (int)h.EntrySize, 512))
            sum += e.FirstLba + e.LastLba + e.Type[0];
        return sum;
    }

    [Benchmark, BenchmarkCategory("Read")]
    public ulong ReadGeneratedRecords()
    {
        var span = disk.AsSpan();
        var h = GptHeader.Read(span, 0);
        var table = span.Slice(512, (int)(h.EntryCount * h.EntrySize));
        if (BinaryChecksum.Compute(ChecksumAlgorithm.Crc32, table, 0, table.Length, -4) != h.EntryArrayCrc)
            throw new InvalidDataException("bad GPT entry array CRC");
        ulong sum = 0;
        foreach (var e in BinaryLayout.Records<GptEntry>(table, (int)h.EntryCount, (int)h.EntrySize, 512))
            sum += e.FirstLba + e.LastLba + e.Type[0];
        return sum;
    }

    [Benchmark(Baseline = true), BenchmarkCategory("Write")]
    public uint WriteHandWritten()
    {
        var span = destination.AsSpan();
        var table = span.Slice(512, 128 * 128);
        for (var i = 0; i < 128; i++)
        {
            var e = table.Slice(i * 128, 128);
            ref readonly var entry = ref entries[i];
            ((ReadOnlySpan<byte>)entry.Type).CopyTo(e);
            ((ReadOnlySpan<byte>)entry.Unique).CopyTo(e[16..]);
            BinaryPrimitives.WriteUInt64LittleEndian(e[32..], entry.FirstLba);
            BinaryPrimitives.WriteUInt64LittleEndian(e[40..], entry.LastLba);
            BinaryPrimitives.WriteUInt64LittleEndian(e[48..], entry.Attributes);
            ((ReadOnlySpan<byte>)entry.Name).CopyTo(e[56..]);
        }
        var h = span.Slice(0, HeaderSize);
        BinaryPrimitives.WriteUInt64LittleEndian(h, 0x5452415020494645);
        BinaryPrimitives.WriteUInt32LittleEndian(h[8..], header.Revision);
        BinaryPrimitives.WriteUInt32LittleEndian(h[12..], header.HeaderSize);
        BinaryPrimitives.WriteUInt32LittleEndian(h[16..], 0);
        BinaryPrimitives.WriteUInt32LittleEndian(h[20..], header.Reserved);
        BinaryPrimitives.WriteUInt64LittleEndian(h[24..], header.CurrentLba);
        BinaryPrimitives.WriteUInt64LittleEndian(h[32..], header.BackupLba);
        BinaryPrimitives.WriteUInt64LittleEndian(h[40..], header.FirstUsableLba);
        BinaryPrimitives.WriteUInt64LittleEndian(h[48..], header.LastUsableLba);
        ((ReadOnlySpan<byte>)header.DiskGuid).CopyTo(h[56..]);
        BinaryPrimitives.WriteUInt64LittleEndian(h[72..], header.EntryArrayLba);
        BinaryPrimitives.WriteUInt32LittleEndian(h[80..], header.EntryCount);
        BinaryPrimitives.WriteUInt32LittleEndian(h[84..], header.EntrySize);
        BinaryPrimitives.WriteUInt32LittleEndian(h[88..], Crc32.HashToUInt32(table));
        var crc = Crc32.HashToUInt32(h);
        BinaryPrimitives.WriteUInt32LittleEndian(h[16..], crc);
        return crc;
    }

    [Benchmark, BenchmarkCategory("Write")]
    public uint WriteGenerated()
    {
        var span = destination.AsSpan();
        var table = span.Slice(512, 128 * 128);
        for (var i = 0; i < entries.Length; i++)
            entries[i].Write(table.Slice(i * 128, 128));
        header.EntryArrayCrc = BinaryChecksum.Compute(ChecksumAlgorithm.Crc32, table, 0, table.Length, -4);
        header.Write(span);
        return BinaryPrimitives.ReadUInt32LittleEndian(span[16..]);
    }
}
