using System.Globalization;
using Qcow2.Tests.Infrastructure;

namespace Qcow2.Tests.Resize;

/// <summary>
/// A shrink gives the clusters it frees back to the file system (holes), as qemu-img does, so that metadata freed in the
/// middle of the file, which truncation cannot reach, stops taking disk space.
/// </summary>
public sealed class ShrinkHoleTests
{
    [QemuFact]
    public void A_shrink_leaves_about_as_much_allocated_on_disk_as_qemu_img()
    {
        using var dir = new TempDir();
        var ours = dir.File("ours.qcow2");
        var theirs = dir.File("theirs.qcow2");
        ResizeAssert.Create(ours, "2G", "cluster_size=4096");
        // 4 KiB every 2 MiB past 64 MiB (one L2 table and one data cluster each), then 1 MiB at 0, written last so that it
        // ends the file: what the shrink frees lies before it, where truncation cannot reach.
        var commands = Enumerable.Range(32, 992).SelectMany(i => new[] { "-c", $"write -P 7 {i * (2L << 20)} 4k" });
        Qemu.Io([.. commands, "-c", "write -P 8 0 1M", ours]).EnsureSuccess("qemu-io");
        File.Copy(ours, theirs);
        var before = AllocatedBytes(ours);

        using (var image = Qcow2Image.Open(ours, new Qcow2OpenOptions { Writable = true }))
            image.Resize(64L << 20, new Qcow2ResizeOptions { AllowShrink = true });
        Qemu.Img("resize", "-q", "--shrink", theirs, "64M").EnsureSuccess("qemu-img resize");

        ResizeAssert.CleanWithSize(ours, 64L << 20);
        ResizeAssert.Reads(ours, 8, 0, 1L << 20);
        Assert.Equal(new FileInfo(theirs).Length, new FileInfo(ours).Length);
        var allocated = AllocatedBytes(ours);
        var qemuAllocated = AllocatedBytes(theirs);
        Assert.True(before > 4 * qemuAllocated, $"the image must free most of its {before} bytes (qemu-img leaves {qemuAllocated})");
        Assert.True(allocated <= qemuAllocated * 11 / 10, $"{allocated} bytes allocated after the shrink, qemu-img leaves {qemuAllocated}");
    }

    [QemuFact]
    public void A_shrink_of_a_preallocated_image_punches_holes_for_the_refcount_blocks_it_drops()
    {
        using var dir = new TempDir();
        var ours = dir.File("ours.qcow2");
        var theirs = dir.File("theirs.qcow2");
        // 4 KiB clusters and 64-bit refcounts: QEMU places a refcount block every 2 MiB of file, among the L2 tables and data
        // it describes, and past 1 GiB of file the refcount table moves to the end. After the shrink the blocks past 64 MiB
        // describe nothing and are unlinked; truncation cannot reach them, since the table stays at the end of the file.
        // Created twice rather than copied: a copy need not keep the holes.
        foreach (var path in new[] { ours, theirs })
            ResizeAssert.Create(path, "1100M", "cluster_size=4096,refcount_bits=64,preallocation=metadata");

        using (var image = Qcow2Image.Open(ours, new Qcow2OpenOptions { Writable = true }))
            image.Resize(64L << 20, new Qcow2ResizeOptions { AllowShrink = true });
        Qemu.Img("resize", "-q", "--shrink", theirs, "64M").EnsureSuccess("qemu-img resize");

        ResizeAssert.CleanWithSize(ours, 64L << 20);
        Assert.Equal(new FileInfo(theirs).Length, new FileInfo(ours).Length);
        var allocated = AllocatedBytes(ours);
        var qemuAllocated = AllocatedBytes(theirs);
        Assert.True(allocated <= qemuAllocated * 11 / 10, $"{allocated} bytes allocated after the shrink, qemu-img leaves {qemuAllocated}");
    }

    private static long AllocatedBytes(string path) =>
        long.Parse(Qemu.Run("stat", "-c", "%b", path).EnsureSuccess("stat").StandardOutput.Trim(), CultureInfo.InvariantCulture) * 512;
}
