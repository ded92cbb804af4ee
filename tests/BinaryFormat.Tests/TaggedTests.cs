using BinaryFormat.Tests.Samples;
using static BinaryFormat.Tests.TestData;

namespace BinaryFormat.Tests;

/// <summary>[SwitchOn] with [Case]s: the layout chosen by a tag, unknown kinds kept as raw bytes.</summary>
public class TaggedTests
{
    private static byte[] Png() => File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Samples", "gvim.png"));

    [Fact]
    public void PngChunksAreReadByTypeAndTheFileRoundTrips()
    {
        var png = Png();
        var file = PngFile.Read(png, 0, out var consumed);
        Assert.Equal(png.Length, consumed);
        Assert.Equal(["IHDR", "gAMA", "PLTE", "tRNS", "IDAT", "IEND"], file.Chunks.Select(c => System.Text.Encoding.ASCII.GetString(BitConverter.GetBytes(c.Type).Reverse().ToArray())));
        var header = Assert.IsType<PngImageHeader>(file.Chunks[0].Data);
        Assert.Equal((16u, 16u, (byte)3), (header.Width, header.Height, header.ColorType));
        Assert.Equal(8, Assert.IsType<PngPalette>(file.Chunks[2].Data).Colors.Length);
        Assert.Equal(104, Assert.IsType<PngRawChunk>(file.Chunks[4].Data).Bytes.Length);

        var written = new byte[file.GetEncodedSize()];
        file.Write(written);
        Assert.Equal(Hex(png), Hex(written));
    }

    [Fact]
    public void WriteFillsInTheTagFromTheCaseAndValidateReportsAMismatch()
    {
        var chunk = new PngChunk { Type = 0x12345678, Data = new PngPalette { Colors = [new PngColor { Red = 1, Green = 2, Blue = 3 }] } };
        Assert.Equal([
            "PngChunk.Length at offset 0: expected 3 (the length of Data), but got 0",
            "PngChunk.Type at offset 4: expected 1347179589 (the tag of Data), but got 305419896",
            "PngChunk.Crc at offset 11: expected 0x" + System.IO.Hashing.Crc32.HashToUInt32(Hex("504C5445010203")).ToString("X8") + " (CRC-32 of bytes 4..10), but got 0x00000000"],
            chunk.Validate().Select(e => e.Message));
        var bytes = new byte[chunk.GetEncodedSize()];
        chunk.Write(bytes);
        Assert.Equal("00000003" + "504C5445" + "010203" + Hex(BitConverter.GetBytes(System.IO.Hashing.Crc32.HashToUInt32(Hex("504C5445010203"))).Reverse().ToArray()), Hex(bytes));
    }

    [Fact]
    public void ACaseLayoutsRulesReportThroughTheMember()
    {
        var file = PngFile.Read(Png());
        ((PngImageHeader)file.Chunks[0].Data).ColorType = 5; // does not exist
        var png = new byte[file.GetEncodedSize()];
        file.Write(png);                                       // with a correct CRC
        var error = Assert.Throws<BinaryFormatException>(() => PngFile.Read(png)).Error;
        Assert.Equal("PngFile.Chunks[0].Data.ColorType at offset 25: 5 is not one of 0, 2, 3, 4, 6", error.Message);
    }
}

/// <summary>[Checksum]: CRC-32 checked by Read and Validate, computed by Write.</summary>
public class ChecksumTests
{
    private static byte[] Png() => File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Samples", "gvim.png"));

    [Fact]
    public void ABrokenChunkCrcIsReportedWithFieldAndOffset()
    {
        var png = Png();
        png[8 + 8 + 13] ^= 1; // the IHDR chunk's CRC
        var error = Assert.Throws<BinaryFormatException>(() => PngFile.Read(png)).Error;
        Assert.Equal(BinaryFormatRule.Checksum, error.Rule);
        Assert.Equal(29, error.Offset);
        Assert.StartsWith("PngFile.Chunks[0].Crc at offset 29: expected 0x", error.Message);
        Assert.EndsWith("(CRC-32 of bytes 12..28), but got " + error.Value, error.Message);

        // A changed byte inside the chunk, with the CRC as it was, too.
        png = Png();
        png[8 + 8 + 3] ^= 1; // IHDR width
        Assert.Equal(BinaryFormatRule.Checksum, Assert.Throws<BinaryFormatException>(() => PngFile.Read(png)).Error.Rule);
    }

    /// <summary>Read passes "checksums verified" only to what it read with ReadInto; fixed-size records keep their check.</summary>
    [Fact]
    public void FixedSizeNestedChecksumsAreStillCheckedByRead()
    {
        var value = new CheckedWords { Words = [new CheckedWord { Word = 1 }, new CheckedWord { Word = 2 }], Last = new CheckedWord { Word = 3 } };
        var bytes = new byte[value.GetEncodedSize()];
        value.Write(bytes);
        Assert.Equal(3u, CheckedWords.Read(bytes).Last.Word);

        var broken = (byte[])bytes.Clone();
        broken[1 + 8 + 4] ^= 1;   // Words[1].Crc
        Assert.StartsWith("CheckedWords.Words[1].Crc at offset 13: expected 0x", Assert.Throws<BinaryFormatException>(() => CheckedWords.Read(broken)).Error.Message);
        broken = (byte[])bytes.Clone();
        broken[1 + 16] ^= 1;      // Last.Word
        Assert.StartsWith("CheckedWords.Last.Crc at offset 21: expected 0x", Assert.Throws<BinaryFormatException>(() => CheckedWords.Read(broken)).Error.Message);
    }

    [Fact]
    public void ValidateReportsTheChunkWhoseCrcIsWrongAndWriteRepairsIt()
    {
        var file = PngFile.Read(Png());
        Assert.Empty(file.Validate());
        file.Chunks[4].Crc ^= 0x10;
        var error = Assert.Single(file.Validate(null, 0));
        Assert.Equal("Chunks[4].Crc", error.MemberPath);
        var repaired = new byte[file.GetEncodedSize()];
        file.Write(repaired);
        Assert.Equal(Hex(Png()), Hex(repaired));
    }

    [Fact]
    public void Crc32CVariantsMatchTheirCheckValues()
    {
        // The catalogue's check value: the CRC of "123456789".
        var data = "123456789"u8;
        Assert.Equal(0xE3069283u, BinaryChecksum.Compute(ChecksumAlgorithm.Crc32C, data, 0, data.Length, -8));
        Assert.Equal(~0xE3069283u, BinaryChecksum.Compute(ChecksumAlgorithm.Crc32CNoFinalXor, data, 0, data.Length, -8));
        Assert.Equal(0xCBF43926u, BinaryChecksum.Compute(ChecksumAlgorithm.Crc32, data, 0, data.Length, -8));
    }
}
