using Qcow2.Tests.Infrastructure;
using static Qcow2.Tests.Format.ImageFiles;

namespace Qcow2.Tests.Format;

/// <summary>A writable open writes exactly what QEMU writes: nothing, or one whole-cluster header rewrite (spec §5).</summary>
public sealed class WriteCountTests
{
    [QemuTheory]
    [InlineData(0x0ul, 1)] // the untrusted bitmaps extension is dropped
    [InlineData(0x1ul, 0)]
    [InlineData(0x100ul, 1)]
    [InlineData(0x8000000000000001ul, 1)]
    public void Writable_open_writes_nothing_or_one_header_cluster(ulong autoclear, int expectedWrites)
    {
        using var dir = new TempDir();
        var path = QemuCreate(dir, "a.qcow2", "64M", "cluster_size=4096");
        AddBitmap(path, "bm0");
        WriteU64(path, 88, autoclear);

        var storage = new CountingStorage(new StreamStorage(new MemoryStream(File.ReadAllBytes(path)), writable: true, leaveOpen: false), allowSetLength: false);
        using (var image = Qcow2Image.Open(storage, writable: true, forCheck: false, fileName: null))
        {
            Assert.Equal(autoclear & 3, (ulong)image.AutoclearFeatures);
            Assert.Equal((autoclear & 1) != 0 ? 1 : 0, image.Bitmaps.Count);
        }
        Assert.Equal(expectedWrites, storage.Writes.Count);
        if (expectedWrites > 0)
        {
            Assert.Equal((0L, 4096), storage.Writes[0]);
            Assert.Equal(1, storage.Flushes);
        }
    }
}
