using Qcow2.Tests.Infrastructure;
using Qcow2.Tests.Tool;

namespace Qcow2.Tests.Snapshots;

/// <summary>
/// Internal snapshots and persistent dirty bitmaps in one image. QEMU 7.2's `check -r leaks` (and `-r all`) on such an image
/// sets the snapshot count to 0 and frees the snapshots' clusters as leaks, even when the image was clean; ours keeps both.
/// </summary>
public sealed class SnapshotBitmapTests
{
    [QemuFact]
    public void Repair_keeps_snapshots_and_bitmaps_where_qemu_img_loses_the_snapshots()
    {
        using var dir = new TempDir();
        var path = dir.File("image.qcow2");
        Qemu.Img("create", "-q", "-f", "qcow2", "-o", "cluster_size=4096", path, "2M").EnsureSuccess("create");
        Qemu.Img("bitmap", "--add", path, "b0").EnsureSuccess("bitmap");
        Qemu.Io("-f", "qcow2", "-c", "write -P 0x11 0 64k", path).EnsureSuccess("write");
        Qemu.Img("snapshot", "-c", "s1", path).EnsureSuccess("snapshot");
        Qemu.Io("-f", "qcow2", "-c", "write -P 0x22 0 64k", path).EnsureSuccess("write");
        SnapshotAssert.Clean(path, "before");
        var listBefore = Qemu.Img("snapshot", "-l", path).StandardOutput;
        Assert.Contains("s1", listBefore, StringComparison.Ordinal);

        // What QEMU 7.2 does (the reason for this test): the snapshot is gone after its repair.
        var qemuCopy = dir.File("qemu.qcow2");
        File.Copy(path, qemuCopy);
        Qemu.Img("check", "-q", "-r", "leaks", "-f", "qcow2", qemuCopy);
        Assert.Equal("", Qemu.Img("snapshot", "-l", qemuCopy).StandardOutput);

        // Ours, through the tool and through the library: nothing to repair, nothing lost.
        var toolResult = ToolRunner.Run("check", "-r", "leaks", path);
        Assert.Equal(0, toolResult.ExitCode);
        using (var image = Qcow2Image.Open(path, new Qcow2OpenOptions { Writable = true }))
        {
            var result = image.Check(new Qcow2CheckOptions { Repair = Qcow2CheckRepair.All });
            Assert.Equal(0, result.Leaks + result.Corruptions + result.LeaksFixed + result.CorruptionsFixed);
            Assert.Equal(["s1"], image.Snapshots.Select(s => s.Name));
            Assert.Equal(["b0"], image.Bitmaps.Select(b => b.Name));
        }
        Assert.Equal(listBefore, Qemu.Img("snapshot", "-l", path).StandardOutput);
        SnapshotAssert.Clean(path, "after our repair");
        var scratch = dir.File("scratch.qcow2");
        File.Copy(path, scratch);
        Qemu.Img("bitmap", "--remove", scratch, "b0").EnsureSuccess("remove the bitmap, which blocks applying");
        SnapshotAssert.QemuApply(scratch, "s1");
        DiskModel.AssertReads(scratch, Filled(2 << 20, 0x11, 64 << 10), "s1 after our repair");
    }

    /// <summary>
    /// Create and delete keep the bitmaps; apply is refused while there are any (enabled or not), with qemu-img's message, since
    /// the revert would change the disk behind the bitmaps' back.
    /// </summary>
    [QemuTheory]
    [InlineData(false)]
    [InlineData(true)]
    public void Create_and_delete_keep_the_bitmaps_and_apply_is_refused_like_qemu_img(bool disabled)
    {
        using var dir = new TempDir();
        var path = dir.File("image.qcow2");
        Qemu.Img("create", "-q", "-f", "qcow2", "-o", "cluster_size=4096", path, "2M").EnsureSuccess("create");
        Qemu.Img(disabled ? ["bitmap", "--add", "--disable", path, "b0"] : ["bitmap", "--add", path, "b0"]).EnsureSuccess("bitmap");
        Qemu.Io("-f", "qcow2", "-c", "write -P 0x11 0 64k", path).EnsureSuccess("write");
        string Bitmaps() => Qemu.InfoJson(path).GetProperty("format-specific").GetProperty("data").GetProperty("bitmaps").ToString();
        var bitmapsBefore = Bitmaps();

        ToolRunner.Run("snapshot", "-c", "s1", path).EnsureSuccess();
        Qemu.Io("-f", "qcow2", "-c", "write -P 0x22 0 64k", path).EnsureSuccess("write");
        var before = File.ReadAllBytes(path);
        var copy = dir.File("copy.qcow2");
        File.Copy(path, copy);
        var ours = ToolRunner.Run("snapshot", "-a", "s1", path);
        var theirs = Qemu.Img("snapshot", "-a", "s1", copy);
        Assert.Equal((1, "qemu-img: Could not apply snapshot 's1': Device has active dirty bitmaps\n"), (theirs.ExitCode, theirs.StandardError));
        Assert.Equal((1, "qcow2: Could not apply snapshot 's1': Device has active dirty bitmaps\n"), (ours.ExitCode, ours.StandardError));
        Assert.Equal(before, File.ReadAllBytes(path));

        ToolRunner.Run("snapshot", "-d", "s1", path).EnsureSuccess();
        SnapshotAssert.Clean(path, "after delete");
        Assert.Equal(bitmapsBefore, Bitmaps());
        DiskModel.AssertReads(path, Filled(2 << 20, 0x22, 64 << 10), "after delete");
    }

    private static byte[] Filled(int size, byte pattern, int length)
    {
        var bytes = new byte[size];
        bytes.AsSpan(0, length).Fill(pattern);
        return bytes;
    }
}
