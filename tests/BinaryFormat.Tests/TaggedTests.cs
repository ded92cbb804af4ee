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
            "PngChunk.Type at offset 4: expected 1347179589 (the tag of Data), but got 305419896"], chunk.Validate().Select(e => e.Message));
        var bytes = new byte[chunk.GetEncodedSize()];
        chunk.Write(bytes);
        Assert.Equal("00000003" + "504C5445" + "010203" + "00000000", Hex(bytes));
    }

    [Fact]
    public void ACaseLayoutsRulesReportThroughTheMember()
    {
        var png = Png();
        png[8 + 8 + 9] = 5; // IHDR colour type 5 does not exist
        var error = Assert.Throws<BinaryFormatException>(() => PngFile.Read(png)).Error;
        Assert.Equal("PngFile.Chunks[0].Data.ColorType at offset 25: 5 is not one of 0, 2, 3, 4, 6", error.Message);
    }
}
