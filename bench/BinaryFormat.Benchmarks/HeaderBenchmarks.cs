using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BinarySerialization;

namespace BinaryFormat.Benchmarks;

/// <summary>Read (parse + validate) and Write of the 104-byte header: hand-written (baseline), generated, BinarySerializer.</summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
[MedianColumn]
public class HeaderBenchmarks
{
    private readonly byte[] bytes = Convert.FromHexString(
        "514649FB" + "00000003" + "0000000000000000" + "00000000" + "00000010" + "0000000280000000" + "00000000" + "00000014" +
        "0000000000030000" + "0000000000010000" + "00000001" + "00000000" + "0000000000000000" + "0000000000000000" +
        "0000000000000000" + "0000000000000000" + "00000004" + "00000068");

    private readonly byte[] destination = new byte[104];
    private readonly MemoryStream stream = new(new byte[256], writable: true);
    private readonly BinarySerializer serializer = new() { Endianness = Endianness.Big };
    private GeneratedHeader generated;
    private HandWrittenHeader handWritten;
    private SerializerHeader serialized = null!;

    [GlobalSetup]
    public void Setup()
    {
        generated = GeneratedHeader.Read(bytes);
        handWritten = HandWrittenHeader.Read(bytes);
        serialized = serializer.Deserialize<SerializerHeader>(bytes);
        serialized.Check();

        // Like for like: all three must read the same values and write the same bytes.
        var a = new byte[104];
        var b = new byte[104];
        generated.Write(a);
        handWritten.Write(b);
        stream.Position = 0;
        serializer.Serialize(stream, serialized);
        var c = stream.ToArray().AsSpan(0, (int)stream.Position).ToArray();
        if (!a.AsSpan().SequenceEqual(bytes) || !b.AsSpan().SequenceEqual(bytes) || !c.AsSpan().SequenceEqual(bytes))
            throw new InvalidOperationException("the three implementations disagree about the header's bytes");
        if (GeneratedHeader.Size != 104)
            throw new InvalidOperationException($"GeneratedHeader.Size is {GeneratedHeader.Size}, not 104");
    }

    [Benchmark(Baseline = true, Description = "HandWritten"), BenchmarkCategory("Read")]
    public ulong ReadHandWritten() => HandWrittenHeader.Read(bytes).L1TableOffset;

    [Benchmark(Description = "Generated"), BenchmarkCategory("Read")]
    public ulong ReadGenerated() => GeneratedHeader.Read(bytes).L1TableOffset;

    /// <summary>Not a target: the generated parse alone, to show how much of Read is validation.</summary>
    [Benchmark(Description = "Generated ReadUnchecked"), BenchmarkCategory("Read")]
    public ulong ReadUncheckedGenerated() => GeneratedHeader.ReadUnchecked(bytes).L1TableOffset;

    [Benchmark(Description = "BinarySerializer"), BenchmarkCategory("Read")]
    public ulong ReadBinarySerializer()
    {
        var header = serializer.Deserialize<SerializerHeader>(bytes);
        header.Check();
        return header.L1TableOffset;
    }

    [Benchmark(Baseline = true, Description = "HandWritten"), BenchmarkCategory("Write")]
    public byte WriteHandWritten()
    {
        handWritten.Write(destination);
        return destination[103];
    }

    [Benchmark(Description = "Generated"), BenchmarkCategory("Write")]
    public byte WriteGenerated()
    {
        generated.Write(destination);
        return destination[103];
    }

    [Benchmark(Description = "BinarySerializer"), BenchmarkCategory("Write")]
    public long WriteBinarySerializer()
    {
        stream.Position = 0;
        serializer.Serialize(stream, serialized);
        return stream.Position;
    }
}
