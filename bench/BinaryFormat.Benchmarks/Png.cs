using System.Buffers.Binary;
using System.IO.Hashing;
using BenchmarkDotNet.Attributes;

namespace BinaryFormat.Benchmarks;

/// <summary>What a PNG chunk holds, chosen by its type.</summary>
public interface IPngChunkData;

[BinaryFormat]
public partial class PngImageHeader : IPngChunkData
{
    [Field] public uint Width;
    [Field] public uint Height;
    [Field] public byte BitDepth;
    [Field, OneOf(0, 2, 3, 4, 6)] public byte ColorType;
    [Field] public byte Compression;
    [Field] public byte Filter;
    [Field] public byte Interlace;
}

/// <summary>Any other chunk: its bytes.</summary>
[BinaryFormat]
public partial class PngRawChunk : IPngChunkData
{
    [Field, Length(ToEnd = true)] public byte[] Bytes = [];
}

/// <summary>A whole chunk: type-switched data and its CRC-32 over type and data.</summary>
[BinaryFormat(GenerateView = true)]
public partial class PngChunk
{
    [Field] public uint Length;
    [Field] public uint Type;
    [Field, Length(nameof(Length)), SwitchOn(nameof(Type))]
    [Case(PngBenchmarks.Ihdr, typeof(PngImageHeader)), Case(typeof(PngRawChunk))]
    public IPngChunkData Data = new PngRawChunk();
    [Field, Checksum(ChecksumAlgorithm.Crc32, From = nameof(Type), To = nameof(Data))] public uint Crc;
}

[BinaryFormat(GenerateView = true)]
public partial class PngFile
{
    [Field, Magic(0x89504E470D0A1A0A)] public ulong Signature;
    [Field, Until(nameof(PngChunk.Type), PngBenchmarks.Iend)] public PngChunk[] Chunks = [];
}

/// <summary>The 8 bytes in front of every chunk's data, for the walk that allocates nothing.</summary>
[BinaryFormat]
public partial struct PngChunkHead
{
    [Field] public uint Length;
    [Field] public uint Type;
}

/// <summary>The IHDR data as a struct, so that the zero-allocation walk checks its rule too.</summary>
[BinaryFormat]
public partial struct PngImageHeaderData
{
    [Field] public uint Width;
    [Field] public uint Height;
    [Field] public byte BitDepth;
    [Field, OneOf(0, 2, 3, 4, 6)] public byte ColorType;
    [Field] public byte Compression;
    [Field] public byte Filter;
    [Field] public byte Interlace;
}

/// <summary>
/// Walks every chunk of a real PNG (tests/BinaryFormat.Tests/Samples/gvim.png: IHDR, gAMA, PLTE, tRNS, IDAT, IEND),
/// checking each chunk's CRC-32 and IHDR's colour type; returns a sum of what it read so that nothing is optimised away.
/// HandWritten: BinaryPrimitives and System.IO.Hashing. GeneratedSpan: the declared chunk head and IHDR structs with
/// <see cref="BinaryChecksum.Compute"/> (allocates nothing). GeneratedDeclared: the whole file as declared layouts
/// (<see cref="PngFile"/>, type-switched data and [Checksum]); it allocates the chunk objects and their bytes.
/// GeneratedView: the same declared file seen through its generated view (<c>PngFile.View</c>): chunks walked in place,
/// data as slices of the input, each CRC checked once; allocates nothing.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class PngBenchmarks
{
    public const uint Ihdr = 0x49484452;
    public const uint Iend = 0x49454E44;
    private const ulong Signature = 0x89504E470D0A1A0A;
    private byte[] png = [];

    [GlobalSetup]
    public void Setup()
    {
        png = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "gvim.png"));
        var expected = WalkHandWritten();
        if (WalkGeneratedSpan() != expected || WalkGeneratedDeclared() != expected || WalkGeneratedView() != expected)
            throw new InvalidOperationException("the walks disagree");
    }

    [Benchmark(Baseline = true)]
    public ulong WalkHandWritten()
    {
        ReadOnlySpan<byte> span = png;
        if (span.Length < 8 || BinaryPrimitives.ReadUInt64BigEndian(span) != Signature)
            throw new InvalidDataException("not a PNG");
        ulong sum = 0;
        var offset = 8;
        while (true)
        {
            if (span.Length - offset < 12)
                throw new InvalidDataException($"chunk at {offset} is cut short");
            var length = BinaryPrimitives.ReadUInt32BigEndian(span[offset..]);
            var type = BinaryPrimitives.ReadUInt32BigEndian(span[(offset + 4)..]);
            if (length > (uint)(span.Length - offset - 12))
                throw new InvalidDataException($"chunk at {offset} is cut short");
            var data = span.Slice(offset + 8, (int)length);
            if (Crc32.HashToUInt32(span.Slice(offset + 4, (int)length + 4)) != BinaryPrimitives.ReadUInt32BigEndian(span[(offset + 8 + (int)length)..]))
                throw new InvalidDataException($"bad CRC in chunk at {offset}");
            if (type == Ihdr)
            {
                if (length != 13 || data[9] is not (0 or 2 or 3 or 4 or 6))
                    throw new InvalidDataException("bad IHDR");
                sum += BinaryPrimitives.ReadUInt32BigEndian(data) + BinaryPrimitives.ReadUInt32BigEndian(data[4..]) + data[9];
            }
            sum += type + length;
            offset += 12 + (int)length;
            if (type == Iend)
                return sum;
        }
    }

    [Benchmark]
    public ulong WalkGeneratedSpan()
    {
        ReadOnlySpan<byte> span = png;
        if (span.Length < 8 || BinaryPrimitives.ReadUInt64BigEndian(span) != Signature)
            throw new InvalidDataException("not a PNG");
        ulong sum = 0;
        var offset = 8;
        while (true)
        {
            var head = PngChunkHead.Read(span[offset..], offset);
            if (head.Length > (uint)(span.Length - offset - 12))
                throw new InvalidDataException($"chunk at {offset} is cut short");
            var end = offset + 8 + (int)head.Length;
            if (BinaryChecksum.Compute(ChecksumAlgorithm.Crc32, span, offset + 4, end, -4) != BinaryPrimitives.ReadUInt32BigEndian(span[end..]))
                throw new InvalidDataException($"bad CRC in chunk at {offset}");
            if (head.Type == Ihdr)
            {
                var ihdr = PngImageHeaderData.Read(span.Slice(offset + 8, (int)head.Length), offset + 8);
                sum += ihdr.Width + ihdr.Height + ihdr.ColorType;
            }
            sum += head.Type + head.Length;
            offset = end + 4;
            if (head.Type == Iend)
                return sum;
        }
    }

    [Benchmark]
    public ulong WalkGeneratedView()
    {
        var file = new PngFile.View(png);
        if (file.Signature != Signature)
            throw new InvalidDataException("not a PNG");
        ulong sum = 0;
        foreach (var chunk in file.Chunks)
        {
            if (!chunk.CrcMatches)
                throw new InvalidDataException($"bad CRC in chunk at {chunk.Position}");
            if (chunk.Type == Ihdr)
            {
                var ihdr = PngImageHeaderData.Read(chunk.Data, chunk.Position + 8);
                sum += ihdr.Width + ihdr.Height + ihdr.ColorType;
            }
            sum += chunk.Type + chunk.Length;
        }
        return sum;
    }

    [Benchmark]
    public ulong WalkGeneratedDeclared()
    {
        var file = PngFile.Read(png);
        ulong sum = 0;
        foreach (var chunk in file.Chunks)
        {
            if (chunk.Data is PngImageHeader ihdr)
                sum += ihdr.Width + ihdr.Height + ihdr.ColorType;
            sum += chunk.Type + chunk.Length;
        }
        return sum;
    }
}
