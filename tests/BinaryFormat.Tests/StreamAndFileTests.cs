using BinaryFormat.Tests.Layouts;
using BinaryFormat.Tests.Samples;

namespace BinaryFormat.Tests;

/// <summary>Any layout read and written at an offset of a stream or a file, with absolute offsets in errors.</summary>
public sealed class StreamAndFileTests : IDisposable
{
    private readonly string path = Path.Combine(Path.GetTempPath(), $"binaryformat-{Guid.NewGuid():N}.bin");

    public void Dispose() => File.Delete(path);

    private static byte[] Sample(string name) => File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Samples", name));

    [Fact]
    public void ReadsAVariableLayoutAtAnOffsetOfAStreamAndOfAFile()
    {
        var zip = Sample("sample.zip");
        var endAt = zip.AsSpan().LastIndexOf("PK\x05\x06"u8);
        File.WriteAllBytes(path, zip);

        using var stream = new MemoryStream(zip);
        var fromStream = BinaryLayout.Read<ZipEndOfCentralDirectory>(stream, endAt);
        using var file = File.OpenHandle(path);
        var fromFile = BinaryLayout.Read<ZipEndOfCentralDirectory>(file, endAt);
        Assert.Equal("sample archive", fromStream.Comment);
        Assert.Equal("sample archive", fromFile.Comment);

        var local = BinaryLayout.Read<ZipLocalFile>(file, 0);
        Assert.Equal("hello.txt", local.Name);
        Assert.Equal((int)local.CompressedSize, local.Data.Length);
    }

    [Fact]
    public void ALayoutLargerThanTheFirstReadIsReadWhole()
    {
        // A comment of 3000 bytes: the reader learns from the first read how much more the layout needs.
        var end = new ZipEndOfCentralDirectory { Comment = new string('c', 3000) };
        using (var file = File.OpenHandle(path, FileMode.Create, FileAccess.ReadWrite))
            BinaryLayout.Write(file, 100, end);
        using var read = File.OpenHandle(path);
        var back = BinaryLayout.Read<ZipEndOfCentralDirectory>(read, 100);
        Assert.Equal(end.Comment, back.Comment);
        Assert.Equal(3000, back.CommentLength);
        Assert.Equal(100 + 22 + 3000, RandomAccess.GetLength(read));
    }

    [Fact]
    public void ALayoutThatTakesTheRestIsReadToTheEndOfTheFile()
    {
        var bytes = new byte[4096 + 20];
        bytes[12] = 0x50; // data offset 5, and 4096 bytes of options beyond the first read
        bytes[^1] = 0xEE;
        File.WriteAllBytes(path, bytes);
        using var file = File.OpenHandle(path);
        var header = BinaryLayout.Read<TcpHeader>(file, 0);
        Assert.Equal(4096, header.Options.Length);
        Assert.Equal(0xEE, header.Options[^1]);
    }

    [Fact]
    public void ErrorsCarryTheAbsoluteOffsetInTheFile()
    {
        var zip = Sample("sample.zip");
        zip[26] = 0xFF; // the first local header's name length: 65535
        zip[27] = 0xFF;
        var image = new byte[10_000 + zip.Length];
        zip.CopyTo(image, 10_000);
        File.WriteAllBytes(path, image);
        using var file = File.OpenHandle(path);

        var error = Assert.Throws<BinaryFormatException>(() => BinaryLayout.Read<ZipLocalFile>(file, 10_000)).Error;
        Assert.Equal(10_030, error.Offset);
        Assert.Equal($"ZipLocalFile.Name at offset 10030: needs 65535 bytes, but only {image.Length - 10_030} are available", error.Message);

        var header = TestData.ValidHeader();
        header[12 + 3] = 8; // cluster bits 8, below the minimum 9
        using var stream = new MemoryStream();
        stream.Write(new byte[5000]);
        stream.Write(header);
        var rule = Assert.Throws<BinaryFormatException>(() => BinaryLayout.Read<RuleHeader>(stream, 5000)).Error;
        Assert.Equal("RuleHeader.ClusterBits at offset 5012: 8 is outside 9..21", rule.Message);
    }

    [Fact]
    public void WriteKeepsTheUndeclaredBytesTheFileHolds()
    {
        // RuleHeader declares no field at bytes 54..55 and 60..63: a write must leave what the file has there.
        var header = TestData.ValidHeader();
        var image = new byte[100];
        Array.Fill(image, (byte)0x77);
        header.CopyTo(image, 30);
        File.WriteAllBytes(path, image);
        var value = RuleHeader.Read(header);
        value.Version = 2;

        using (var file = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite))
            BinaryLayout.Write(file, 30, value);
        var written = File.ReadAllBytes(path);
        var expected = (byte[])image.Clone();
        expected[37] = 2;
        Assert.Equal(Convert.ToHexString(expected), Convert.ToHexString(written));

        using var stream = new MemoryStream();
        BinaryLayout.Write(stream, 8, value);
        Assert.Equal(8 + RuleHeader.Size, stream.Length);
        Assert.Equal(2u, BinaryLayout.Read<RuleHeader>(stream, 8).Version);
    }

    [Fact]
    public void AStreamThatCannotSeekIsACallerMistake()
    {
        using var pipe = new System.IO.Pipes.AnonymousPipeServerStream();
        Assert.Throws<ArgumentException>(() => BinaryLayout.Read<TcpHeader>(pipe, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => BinaryLayout.Read<TcpHeader>(new MemoryStream(), -1));
    }
}
