using System.Security.Cryptography;
using System.Text.Json;
using Qcow2.Tests.Infrastructure;
using Qcow2.Tests.Tool;

namespace Qcow2.Tests.Resize;

/// <summary>
/// Consistent persistent bitmaps are resized with the image: QEMU refuses to open an image whose consistent bitmap's table
/// does not match the virtual size (spec §7), so these tests would fail on a resize that only changed the size.
/// </summary>
public sealed class BitmapResizeTests
{
    private const long MiB = 1024 * 1024;

    [QemuTheory]
    [InlineData("1G", 1L << 30)]
    [InlineData("1T", 1L << 40)]     // L1 growth too
    public void Consistent_bitmaps_are_resized_with_the_image_when_growing_and_shrinking(string grownTo, long grownSize)
    {
        using var dir = new TempDir();
        var path = dir.File("a.qcow2");
        ResizeAssert.Create(path, "64M");
        Qemu.Img("bitmap", "--add", "-f", "qcow2", path, "b0").EnsureSuccess("bitmap --add");
        Qemu.Img("bitmap", "--add", "-g", "512k", "--disable", "-f", "qcow2", path, "frozen").EnsureSuccess("bitmap --add");
        ResizeAssert.Write(path, 0x5a, 0, MiB);          // dirties b0 (enabled)
        ResizeAssert.Write(path, 0x33, 60 * MiB, 4 * MiB);

        Qcow2GuestRange[] dirty;
        using (var image = Qcow2Image.Open(path))
            dirty = image.GetDirtyRanges("b0").ToArray();
        Assert.Equal([new Qcow2GuestRange(0, MiB), new Qcow2GuestRange(60 * MiB, 4 * MiB)], dirty);

        Assert.Equal("Image resized.\n", ToolRunner.Run("resize", path, grownTo).EnsureSuccess().StandardOutput);
        using (var image = Qcow2Image.Open(path))
        {
            Assert.Equal(dirty, image.GetDirtyRanges("b0").ToArray());
            Assert.Empty(image.GetDirtyRanges("frozen"));
        }
        AssertQemuUsesBitmaps(path, grownSize);
        ResizeAssert.Reads(path, 0x5a, 0, MiB);
        ResizeAssert.Reads(path, 0x33, 60 * MiB, 4 * MiB);

        ToolRunner.Run("resize", "--shrink", path, "48M").EnsureSuccess();
        AssertQemuUsesBitmaps(path, 48 * MiB);
        using (var image = Qcow2Image.Open(path))
            Assert.Equal([new Qcow2GuestRange(0, MiB)], image.GetDirtyRanges("b0").ToArray());
        ResizeAssert.Reads(path, 0x5a, 0, MiB);

        using (var image = Qcow2Image.Open(path))
        {
            Assert.Equal(["b0", "frozen"], image.Bitmaps.Select(b => b.Name));
            Assert.All(image.Bitmaps, b => Assert.False(b.InUse));
        }
        // QEMU's own resize accepts them as well, so they are consistent in its eyes.
        Qemu.Img("resize", "-q", "-f", "qcow2", path, "64M").EnsureSuccess("qemu-img resize after ours");
        AssertQemuUsesBitmaps(path, 64 * MiB);
    }

    [QemuFact]
    public void An_in_use_bitmap_blocks_the_resize_as_in_qemu()
    {
        using var dir = new TempDir();
        var ours = dir.File("ours.qcow2");
        var theirs = dir.File("theirs.qcow2");
        ResizeAssert.Create(ours, "64M");
        Qemu.Img("bitmap", "--add", "-f", "qcow2", ours, "b0").EnsureSuccess("bitmap --add");
        Qemu.Io("-f", "qcow2", "-c", "write 0 64k", "-c", "abort", ours); // a crash leaves in_use set
        File.Copy(ours, theirs);
        using (var image = Qcow2Image.Open(ours))
            Assert.True(image.Bitmaps.Single().InUse, "the abort did not leave the bitmap in use");
        var hash = SHA256.HashData(File.ReadAllBytes(ours));

        var qemu = Qemu.Img("resize", "-f", "qcow2", theirs, "128M");
        Assert.Equal(1, qemu.ExitCode);
        Assert.Contains("Bitmap 'b0' is inconsistent and cannot be used", qemu.StandardError, StringComparison.Ordinal);

        var line = ToolRunner.AssertSingleLineError(ToolRunner.Run("resize", ours, "128M"));
        Assert.StartsWith("qcow2: Bitmap 'b0' is inconsistent and cannot be used", line);
        Assert.Equal(hash, SHA256.HashData(File.ReadAllBytes(ours)));
        using var writable = Qcow2Image.Open(ours, new Qcow2OpenOptions { Writable = true });
        Assert.Throws<Qcow2FormatException>(() => writable.Resize(32 * MiB, new Qcow2ResizeOptions { AllowShrink = true }));
    }

    /// <summary>info lists the bitmaps, check is clean, and a writable qemu-io open (which loads every consistent bitmap) works.</summary>
    private static void AssertQemuUsesBitmaps(string path, long size)
    {
        ResizeAssert.CleanWithSize(path, size);
        var info = Qemu.InfoJson(path);
        var names = info.GetProperty("format-specific").GetProperty("data").GetProperty("bitmaps").EnumerateArray()
            .Select(b => b.GetProperty("name").GetString() ?? "").Order().ToArray();
        Assert.Equal(["b0", "frozen"], names);
        var io = Qemu.Io("-f", "qcow2", "-c", "read 0 512", path);
        Assert.True(io.ExitCode == 0 && io.StandardError.Length == 0, $"qemu-io exited {io.ExitCode}: {io.StandardError}");
        Assert.DoesNotContain("error", io.StandardOutput, StringComparison.OrdinalIgnoreCase);
    }
}
