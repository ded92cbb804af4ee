using System.Text;
using BinaryFormat.Tests.Samples;

namespace BinaryFormat.Tests;

/// <summary>Generated views over real samples: every property equals what Read reads, and short input fails as Read does.</summary>
public class ViewTests
{
    private static byte[] Sample(string name) => File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Samples", name));

    [Fact]
    public void GptHeaderAndEntryViewsShowWhatReadReads()
    {
        var disk = Sample("gpt-primary.bin");
        var header = GptHeader.Read(disk.AsSpan(512), 512);
        var view = new GptHeader.View(disk.AsSpan(512), 512);
        Assert.Equal(GptHeader.Size, view.EncodedSize);
        Assert.Equal(512, view.Position);
        Assert.Equal(header.Signature, view.Signature);
        Assert.Equal(header.HeaderCrc, view.HeaderCrc);
        Assert.Equal(header.EntryArrayLba, view.EntryArrayLba);
        Assert.Equal(header.EntryCount, view.EntryCount);
        Assert.Equal(header.EntrySize, view.EntrySize);
        Assert.Equal(header.LastUsableLba, view.LastUsableLba);
        Assert.True(view.DiskGuid.SequenceEqual((ReadOnlySpan<byte>)header.DiskGuid));
        Assert.True(view.HeaderCrcMatches);
        Assert.Empty(view.Validate());
        Assert.Equal(header, view.Read());

        var table = disk.AsSpan(1024, (int)(header.EntryCount * header.EntrySize));
        var entries = GptEntryArray.Read(table, 1024).Entries;
        var walked = 0;
        foreach (var entry in BinaryLayout.Views<GptEntry.View>(table, (int)view.EntryCount, (int)view.EntrySize, 1024))
        {
            var expected = entries[walked];
            Assert.Equal(1024 + walked * 128, entry.Position);
            Assert.Equal(expected.FirstLba, entry.FirstLba);
            Assert.Equal(expected.LastLba, entry.LastLba);
            Assert.Equal(expected.Attributes, entry.Attributes);
            Assert.True(entry.Type.SequenceEqual((ReadOnlySpan<byte>)expected.Type));
            Assert.True(entry.Unique.SequenceEqual((ReadOnlySpan<byte>)expected.Unique));
            Assert.Equal(expected.Name, Encoding.Unicode.GetString(entry.Name).TrimEnd('\0'));
            Assert.Equal(expected, entry.Read());
            walked++;
        }
        Assert.Equal(128, walked);

        // The declared array as a table of views: direct access by index, with the stride.
        var array = new GptEntryArray.View(table, 1024);
        Assert.Equal(128, array.Entries.Count);
        Assert.Equal(entries[1].FirstLba, array.Entries[1].FirstLba);
        Assert.Equal("EFI system", Encoding.Unicode.GetString(array.Entries[1].Name).TrimEnd('\0'));
    }

    [Fact]
    public void AViewChecksOnlyLengthsUntilAskedToValidate()
    {
        var disk = Sample("gpt-primary.bin");
        disk[512 + 40] ^= 0x01; // FirstUsableLba, CRC left as it was
        var view = new GptHeader.View(disk.AsSpan(512), 512);
        Assert.False(view.HeaderCrcMatches);
        var error = Assert.Single(view.Validate());
        Assert.Equal(BinaryFormatRule.Checksum, error.Rule);
        Assert.StartsWith("GptHeader.HeaderCrc at offset 528: expected 0x", error.Message);
    }

    [Fact]
    public void AViewOverTooFewBytesFailsWithTheErrorReadGives()
    {
        var disk = Sample("gpt-primary.bin");
        var viewError = Assert.Throws<BinaryFormatException>(() => new GptHeader.View(disk.AsSpan(512, 50), 512)).Error;
        var readError = Assert.Throws<BinaryFormatException>(() => GptHeader.Read(disk.AsSpan(512, 50), 512)).Error;
        Assert.Equal(BinaryFormatRule.ShortInput, viewError.Rule);
        Assert.Equal("GptHeader at offset 512: needs 92 bytes, but only 50 are available", viewError.Message);
        Assert.Equal(readError.Message, viewError.Message);
        Assert.Equal(readError.Offset, viewError.Offset);

        // A declared table cut short: the same error as Read's.
        var tableError = Assert.Throws<BinaryFormatException>(() => new GptEntryArray.View(disk.AsSpan(1024, 128 * 100), 1024)).Error;
        var readTableError = Assert.Throws<BinaryFormatException>(() => GptEntryArray.Read(disk.AsSpan(1024, 128 * 100), 1024)).Error;
        Assert.Equal(readTableError.Message, tableError.Message);
        Assert.Equal(1024, tableError.Offset);

        // A walk over a span too short for its count fails at the first element that does not fit.
        var walked = 0;
        var walkError = Assert.Throws<BinaryFormatException>(() =>
        {
            foreach (var entry in BinaryLayout.Views<GptEntry.View>(disk.AsSpan(1024, 128 * 2 + 10), 3, 128, 1024))
                walked++;
        }).Error;
        Assert.Equal(2, walked);
        Assert.Equal(BinaryFormatRule.ShortInput, walkError.Rule);
        Assert.Equal(1024 + 256, walkError.Offset);
    }

    [Fact]
    public void PngFileViewWalksTheChunksReadReads()
    {
        var png = Sample("gvim.png");
        var file = PngFile.Read(png);
        var view = new PngFile.View(png);
        Assert.Equal(png.Length, view.EncodedSize);
        Assert.Equal(file.Signature, view.Signature);
        Assert.Equal(file.Chunks.Length, view.Chunks.Count);
        var i = 0;
        var offset = 8;
        foreach (var chunk in view.Chunks)
        {
            var expected = file.Chunks[i++];
            Assert.Equal(offset, chunk.Position);
            Assert.Equal(expected.Length, chunk.Length);
            Assert.Equal(expected.Type, chunk.Type);
            Assert.Equal(expected.Crc, chunk.Crc);
            Assert.True(chunk.CrcMatches);
            Assert.Equal((int)expected.Length, chunk.Data.Length);
            if (expected.Data is PngRawChunk raw)
                Assert.Equal(raw.Bytes, chunk.Data.ToArray());
            if (expected.Data is PngImageHeader ihdr)
                Assert.Equal(ihdr.ColorType, new PngImageHeader.View(chunk.Data).ColorType);
            offset += chunk.EncodedSize;
        }
        Assert.Equal(file.Chunks.Length, i);
        Assert.Empty(view.Validate());
    }

    [Fact]
    public void PngFileViewOverACutFileNamesTheChunk()
    {
        var png = Sample("gvim.png");
        // The chunk list is walked when enumerated: the cut chunk throws there, and when the size is asked.
        var cut = new PngFile.View(png.AsSpan(0, png.Length - 20));
        var readError = Assert.Throws<BinaryFormatException>(() => PngFile.Read(png.AsSpan(0, png.Length - 20))).Error;
        var sizeError = Assert.Throws<BinaryFormatException>(() => new PngFile.View(png.AsSpan(0, png.Length - 20)).EncodedSize).Error;
        var chunks = 0;
        var error = Assert.Throws<BinaryFormatException>(() =>
        {
            foreach (var chunk in new PngFile.View(png.AsSpan(0, png.Length - 20)).Chunks)
                chunks++;
        }).Error;
        Assert.Equal(0x89504E470D0A1A0AUL, cut.Signature);
        Assert.True(chunks > 0);
        Assert.Equal(error.Message, sizeError.Message);
        Assert.Equal(readError.Offset, error.Offset);
        Assert.Equal(BinaryFormatRule.ShortInput, error.Rule);
        Assert.StartsWith("PngChunk", error.Message);
        Assert.True(error.Offset > 8 && error.Offset < png.Length - 20, error.Message);

        png[40] ^= 0xFF; // inside a chunk's data: the view is made, its CRC no longer matches
        var view = new PngFile.View(png);
        var mismatches = 0;
        foreach (var chunk in view.Chunks)
            mismatches += chunk.CrcMatches ? 0 : 1;
        Assert.Equal(1, mismatches);
        Assert.Equal(BinaryFormatRule.Checksum, Assert.Single(view.Validate()).Rule);
    }

    [Fact]
    public void AViewOfATableWithAStrideFromAFieldFindsItsElementsAndWhatFollows()
    {
        byte[] bytes = [2, 6, 0, 0, 0, 5, 0xEE, 0xEE, 0, 0, 0, 7, 0xEE, 0xEE, (byte)'h', (byte)'i', 0];
        var view = new StridedTable.View(bytes);
        Assert.Equal(bytes.Length, view.EncodedSize);
        Assert.Equal(2, view.Items.Count);
        Assert.Equal(7u, view.Items[1].Radius);
        var radii = new List<uint>();
        foreach (var item in view.Items)
            radii.Add(item.Radius);
        Assert.Equal([5u, 7u], radii);
        Assert.Equal("hi", Encoding.ASCII.GetString(view.Note));
        Assert.Equal(view.Read().Note, Encoding.ASCII.GetString(view.Note));

        // Cut inside the table, and a stride smaller than an element: the errors Read gives, naming the member and its offset.
        foreach (var broken in new[] { bytes[..9], [2, 3, .. bytes[2..]] })
        {
            var viewError = Assert.Throws<BinaryFormatException>(() => new StridedTable.View(broken)).Error;
            var readError = Assert.Throws<BinaryFormatException>(() => StridedTable.Read(broken)).Error;
            Assert.Equal(readError.Message, viewError.Message);
            Assert.StartsWith("StridedTable.Items at offset 2: ", viewError.Message);
        }
    }

    [Fact]
    public void AViewMeasuresASwitchedMemberByItsCaseAndRefusesAnUnknownTag()
    {
        byte[] bytes = [1, 0, 0, 0, 5, 9];
        var view = new Drawing.View(bytes);
        Assert.Equal(6, view.EncodedSize);
        Assert.Equal(4, view.Shape.Length);
        Assert.Equal(9, view.End);
        Assert.Equal(5u, Assert.IsType<Circle>(view.Read().Shape).Radius);

        bytes[0] = 2;
        var viewError = Assert.Throws<BinaryFormatException>(() => new Drawing.View(bytes)).Error;
        var readError = Assert.Throws<BinaryFormatException>(() => Drawing.Read(bytes)).Error;
        Assert.Equal(BinaryFormatRule.OneOf, viewError.Rule);
        Assert.Equal(readError.Message, viewError.Message);
    }
}

public interface IShape;

[BinaryFormat(GenerateView = true)]
public partial struct Circle : IShape
{
    [Field] public uint Radius;
}

[BinaryFormat(GenerateView = true)]
public partial class Drawing
{
    [Field] public byte Kind;
    [Field, SwitchOn(nameof(Kind)), Case(1, typeof(Circle))] public IShape Shape = new Circle();
    [Field] public byte End;
}

[BinaryFormat(GenerateView = true)]
public partial class StridedTable
{
    [Field] public byte Count;
    [Field] public byte Stride;
    [Field, Count(nameof(Count)), Stride(nameof(Stride))] public Circle[] Items = [];
    [Field, NullTerminated, Encoding(TextEncoding.Ascii)] public string Note = "";
}
