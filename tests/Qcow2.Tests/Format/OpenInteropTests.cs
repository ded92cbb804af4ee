using Qcow2.Tests.Infrastructure;
using static Qcow2.Tests.Format.ImageFiles;

namespace Qcow2.Tests.Format;

/// <summary>Images made by the real qemu-img open, and the library describes them as `qemu-img info` does.</summary>
public sealed class OpenInteropTests
{
    [QemuTheory]
    [InlineData("compat=0.10")]
    [InlineData("compat=0.10,cluster_size=512")]
    [InlineData("compat=1.1")]
    [InlineData("cluster_size=512")]
    [InlineData("cluster_size=4096")]
    [InlineData("cluster_size=2M")]
    [InlineData("refcount_bits=1")]
    [InlineData("refcount_bits=64,cluster_size=4096")]
    [InlineData("lazy_refcounts=on")]
    [InlineData("compression_type=zstd")]
    [InlineData("extended_l2=on")]
    [InlineData("extended_l2=on,cluster_size=2M")]
    public void Opens_qemu_images_and_agrees_with_qemu_info(string options)
    {
        using var dir = new TempDir();
        var path = QemuCreate(dir, "a.qcow2", "1G", options);
        var fileBefore = File.ReadAllBytes(path);

        using (var image = Qcow2Image.Open(path))
        {
            AssertAgreesWithQemu(image, Qemu.InfoJson(path));
            Assert.False(image.IsWritable);
            Assert.Empty(image.Warnings);
            Assert.Equal(fileBefore.Length, image.FileLength);
        }
        // A writable open of a clean image writes nothing, as in QEMU.
        using (Qcow2Image.Open(path, new Qcow2OpenOptions { Writable = true }))
        {
        }
        Assert.Equal(fileBefore, File.ReadAllBytes(path));
    }

    [QemuFact]
    public void Backing_file_and_format_are_reported_but_never_opened()
    {
        using var dir = new TempDir();
        var basePath = QemuCreate(dir, "base.qcow2", "64M");
        var path = dir.File("top.qcow2");
        Qemu.Img("create", "-q", "-f", "qcow2", "-b", basePath, "-F", "qcow2", path).EnsureSuccess("create overlay");
        File.Delete(basePath);

        using var image = Qcow2Image.Open(path);
        Assert.Equal(basePath, image.BackingFileName);
        Assert.Equal("qcow2", image.BackingFormat);
        Assert.Contains(image.Extensions, e => e is Qcow2BackingFormatExtension { Format: "qcow2" });
        Assert.Equal(64L << 20, image.VirtualSize);
    }

    [QemuFact]
    public void External_data_file_is_reported_but_never_opened()
    {
        using var dir = new TempDir();
        var data = dir.File("a.raw");
        var path = QemuCreate(dir, "a.qcow2", "64M", $"data_file={data},data_file_raw=on");
        var info = Qemu.InfoJson(path);
        File.Delete(data);

        using var image = Qcow2Image.Open(path);
        AssertAgreesWithQemu(image, info);
        Assert.Equal(data, image.DataFileName);
        Assert.True(image.DataFileRaw);
        Assert.Contains(image.Extensions, e => e is Qcow2ExternalDataFileExtension { FileName: var name } && name == data);
    }

    [QemuFact]
    public void Bitmaps_made_by_qemu_img_are_listed_with_flags_and_granularity()
    {
        using var dir = new TempDir();
        var path = QemuCreate(dir, "a.qcow2", "1G");
        AddBitmap(path, "bm0");
        AddBitmap(path, "frozen", "--disable");
        AddBitmap(path, "coarse", "-g", "1M");

        using var image = Qcow2Image.Open(path);
        AssertAgreesWithQemu(image, Qemu.InfoJson(path));
        Assert.Equal(["bm0", "frozen", "coarse"], image.Bitmaps.Select(b => b.Name));
        Assert.Equal([true, false, true], image.Bitmaps.Select(b => b.Enabled));
        Assert.Equal([16, 16, 20], image.Bitmaps.Select(b => b.GranularityBits));
        Assert.All(image.Bitmaps, b => Assert.True(b.IsConsistent));
        var ext = Assert.Single(image.Extensions.OfType<Qcow2BitmapsExtension>());
        Assert.Equal(3, ext.BitmapCount);
        Assert.Equal(0, ext.DirectoryOffset % image.ClusterSize);
    }

    [QemuFact]
    public void Single_bitmap_on_a_v3_image_with_small_clusters()
    {
        using var dir = new TempDir();
        var path = QemuCreate(dir, "a.qcow2", "64M", "cluster_size=512");
        AddBitmap(path, "only", "-g", "512");

        using var image = Qcow2Image.Open(path);
        AssertAgreesWithQemu(image, Qemu.InfoJson(path));
        var bitmap = Assert.Single(image.Bitmaps);
        Assert.Equal(512, bitmap.Granularity);
        // 64 MiB / 512 = 131072 bits = 16 KiB of bitmap = 32 clusters of 512 bytes.
        Assert.Equal(32, bitmap.TableSize);
    }

    [QemuFact]
    public void A_bitmap_left_in_use_by_a_crash_is_listed_as_inconsistent()
    {
        using var dir = new TempDir();
        var path = QemuCreate(dir, "a.qcow2", "64M");
        AddBitmap(path, "bm0");
        // abort() skips the clean close, so in_use stays set.
        Qemu.Io("-c", "write 0 64k", "-c", "abort", path);

        using var image = Qcow2Image.Open(path);
        AssertAgreesWithQemu(image, Qemu.InfoJson(path));
        var bitmap = Assert.Single(image.Bitmaps);
        Assert.True(bitmap.InUse);
        Assert.False(bitmap.IsConsistent);
    }

    [QemuFact]
    public void Snapshots_are_listed_as_qemu_info_lists_them()
    {
        using var dir = new TempDir();
        var path = QemuCreate(dir, "a.qcow2", "64M");
        Qemu.Io("-c", "write 0 64k", path).EnsureSuccess("qemu-io write");
        Qemu.Img("snapshot", "-c", "first", path).EnsureSuccess("snapshot");
        Qemu.Img("snapshot", "-c", "second", path).EnsureSuccess("snapshot");

        using var image = Qcow2Image.Open(path);
        AssertAgreesWithQemu(image, Qemu.InfoJson(path));
        Assert.Equal(["first", "second"], image.Snapshots.Select(s => s.Name));
        Assert.All(image.Snapshots, s => Assert.Equal(0, s.L1TableOffset % image.ClusterSize));
    }

    [QemuFact]
    public void Stream_open_reads_the_same_image_and_honours_leave_open()
    {
        using var dir = new TempDir();
        var path = QemuCreate(dir, "a.qcow2", "1G", "lazy_refcounts=on");
        var stream = new MemoryStream(File.ReadAllBytes(path));

        using (var image = Qcow2Image.Open(stream, new Qcow2OpenOptions { LeaveOpen = true }))
        {
            AssertAgreesWithQemu(image, Qemu.InfoJson(path));
            Assert.Null(image.FileName);
        }
        Assert.True(stream.CanRead);
        Qcow2Image.Open(stream).Dispose();
        Assert.False(stream.CanRead);
    }
}
