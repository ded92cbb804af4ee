using Qcow2.Tests.Infrastructure;
using Qcow2.Tests.Tool;

namespace Qcow2.Tests.Bitmaps;

/// <summary>QEMU's limits on the number of bitmaps and the directory size (spec §3.6).</summary>
public sealed class BitmapLimitTests
{
    /// <summary>
    /// 65535 bitmaps (written in one go through the directory writer; 512-byte clusters keep the file small): a 65536th is
    /// refused with QEMU's message by the library and the tool, and the image is left alone. (qemu-img 7.2 needs minutes to
    /// open an image with 65535 bitmaps on this machine, so it is not run here; its message was checked by hand:
    /// "Operation add on bitmap x failed: Can't make bitmap 'x' persistent in '#block…': Maximum number of persistent bitmaps is already reached".)
    /// </summary>
    [Fact]
    public void The_65536th_bitmap_is_refused()
    {
        using var dir = new TempDir();
        var path = dir.File("a.qcow2");
        using (var image = Qcow2Image.Create(path, 1 << 20, new Qcow2CreateOptions { ClusterSize = 512 }))
        {
            var definitions = Enumerable.Range(0, 65535)
                .Select(i => BitmapDefinition.New("b" + i, 16, BitmapDirectoryEntry.AutoFlag, BitmapContent.Empty))
                .ToList();
            new BitmapDirectoryWriter(image).Write(definitions);
            Assert.Equal(65535, image.Bitmaps.Count);
            var error = Assert.Throws<Qcow2FormatException>(() => image.AddBitmap("one-too-many"));
            Assert.StartsWith("Maximum number of persistent bitmaps is already reached", error.Message);
            // The writer refuses too, before it writes anything.
            var length = image.FileLength;
            definitions.Add(BitmapDefinition.New("x", 16, 0, BitmapContent.Empty));
            Assert.Throws<Qcow2FormatException>(() => new BitmapDirectoryWriter(image).Prepare(definitions, (ulong)image.VirtualSize));
            Assert.Equal(length, image.FileLength);
            Assert.Equal(0, image.Check().ExitCode());
        }
        var before = File.ReadAllBytes(path);
        Assert.StartsWith("qcow2: Operation add on bitmap one-too-many failed: Maximum number of persistent bitmaps is already reached",
            ToolRunner.AssertSingleLineError(ToolRunner.Run("bitmap", "--add", path, "one-too-many")));
        Assert.Equal(before, File.ReadAllBytes(path));
        using var reopened = Qcow2Image.Open(path);
        Assert.Equal(65535, reopened.Bitmaps.Count);
        Assert.Equal("b65534", reopened.Bitmaps[^1].Name);
    }

    [Fact]
    public void A_directory_over_67107840_bytes_is_refused_before_anything_is_written()
    {
        using var dir = new TempDir();
        var path = dir.File("a.qcow2");
        using var image = Qcow2Image.Create(path, 1 << 20, new Qcow2CreateOptions());
        // 65535 entries of 24 + 1023 bytes padded to 1048: 68,680,680 bytes.
        var definitions = Enumerable.Range(0, 65535)
            .Select(i => BitmapDefinition.New(i.ToString("D5") + new string('n', 1018), 16, 0, BitmapContent.Empty))
            .ToList();
        var length = image.FileLength;
        var error = Assert.Throws<Qcow2FormatException>(() => new BitmapDirectoryWriter(image).Prepare(definitions, (ulong)image.VirtualSize));
        Assert.Contains("67107840", error.Message);
        Assert.Equal("BitmapsExtensionData.DirectorySize", error.Field);
        Assert.Equal(length, image.FileLength);
    }
}
