using Qcow2.Tests.Infrastructure;
using Qcow2.Tests.Snapshots;

namespace Qcow2.Tests.Amend;

/// <summary>
/// <c>amend -o refcount_bits=N</c> against <c>qemu-img amend</c> on copies, every width to every width, and a crash after each
/// of its writes.
/// </summary>
public sealed class RefcountWidthTests
{
    private static readonly int[] Widths = [1, 2, 4, 8, 16, 32, 64];

    public static TheoryData<int, int> Pairs()
    {
        var pairs = new TheoryData<int, int>();
        foreach (var from in Widths)
        {
            foreach (var to in Widths)
                pairs.Add(from, to);
        }
        return pairs;
    }

    /// <summary>
    /// A sample at <paramref name="from"/> bits with 4 KiB clusters (so several refcount blocks at any width) and as many
    /// snapshots as the width can count (up to 3): data shared by all of them has a refcount of 4, which 1- and 2-bit widths
    /// cannot hold, so the matrix sees refusals as well as rewrites.
    /// </summary>
    private static void BuildSample(TempDir dir, int from)
    {
        var path = dir.File("sample.qcow2");
        Qemu.Img("create", "-q", "-f", "qcow2", "-o", $"cluster_size=4096,refcount_bits={from}", path, "8M").EnsureSuccess("create");
        Qemu.Io("-f", "qcow2", "-c", "write -P 0x11 0 1M", "-c", "write -P 0x12 6M 512k", path).EnsureSuccess("write");
        var snapshots = from switch { 1 => 0, 2 => 2, _ => 3 };
        for (var s = 1; s <= snapshots; s++)
        {
            Qemu.Img("snapshot", "-c", $"s{s}", path).EnsureSuccess("snapshot");
            Qemu.Io("-f", "qcow2", "-c", $"write -P 0x{0x20 + s:x2} {s * 128}k 64k", path).EnsureSuccess("write");
        }
    }

    private static string Sample(TempDir dir, int from)
    {
        ImageCache.CopyInto($"refcount-width-{from}", built => BuildSample(built, from), dir);
        return dir.File("sample.qcow2");
    }

    [QemuTheory]
    [MemberData(nameof(Pairs))]
    public void Width_change_matches_qemu_img(int from, int to)
    {
        using var dir = new TempDir();
        var ours = Sample(dir, from);
        var theirs = dir.File("theirs.qcow2");
        File.Copy(ours, theirs);
        var before = File.ReadAllBytes(ours);

        var ourResult = ToolRunner.Run("amend", "-o", $"refcount_bits={to}", ours);
        var qemuResult = Qemu.Img("amend", "-o", $"refcount_bits={to}", theirs);
        Assert.Equal(qemuResult.ExitCode, ourResult.ExitCode);
        if (qemuResult.ExitCode != 0)
        {
            Assert.Equal(qemuResult.StandardError.Replace("qemu-img: ", "qcow2: ", StringComparison.Ordinal), ourResult.StandardError);
            Assert.Equal(before, File.ReadAllBytes(ours));
            return;
        }
        SnapshotAssert.Clean(ours, "ours");
        Assert.Equal(to, Qemu.InfoJson(ours).GetProperty("format-specific").GetProperty("data").GetProperty("refcount-bits").GetInt32());
        Assert.Equal(Qemu.InfoJson(theirs).GetProperty("format-specific").ToString(), Qemu.InfoJson(ours).GetProperty("format-specific").ToString());
        Assert.Equal(SnapshotAssert.QemuListWithoutDates(theirs), SnapshotAssert.QemuListWithoutDates(ours));
        var compare = Qemu.Img("compare", "-f", "qcow2", "-F", "qcow2", ours, theirs);
        Assert.True(compare.ExitCode == 0, compare.StandardOutput + compare.StandardError);
        // Every snapshot still reads as qemu-img's copy of it (read out with convert -l: applying one can overflow a narrow
        // refcount in either tool).
        for (var s = 1; s <= (from switch { 1 => 0, 2 => 2, _ => 3 }); s++)
            Assert.Equal(SnapshotRaw(theirs, $"s{s}", dir), SnapshotRaw(ours, $"s{s}", dir));
    }

    private static byte[] SnapshotRaw(string path, string name, TempDir dir)
    {
        var raw = dir.File("snapshot.raw");
        Qemu.Img("convert", "-f", "qcow2", "-O", "raw", "-l", $"snapshot.name={name}", path, raw).EnsureSuccess($"convert -l {name}");
        var bytes = File.ReadAllBytes(raw);
        File.Delete(raw);
        return bytes;
    }

    /// <summary>
    /// A crash after every write of a width change leaves the old or the new width, at worst leaks, and the same disk and
    /// snapshots; both widths must occur.
    /// </summary>
    [QemuTheory]
    [InlineData(16, 64)]
    [InlineData(64, 4)]
    [InlineData(4, 32)]
    [InlineData(1, 16)]
    [InlineData(8, 1)]
    public void Every_crash_point_of_a_width_change_is_safe(int from, int to)
    {
        using var dir = new TempDir();
        var sample = Sample(dir, from);
        if (to == 1)
        {
            // Only an image without shared clusters fits 1-bit refcounts.
            foreach (var name in new[] { "s1", "s2", "s3" })
                Qemu.Img("snapshot", "-d", name, sample).EnsureSuccess("delete");
        }
        var template = File.ReadAllBytes(sample);
        var snapshots = SnapshotAssert.QemuListWithoutDates(sample);
        var widths = new HashSet<int>();
        var writes = CrashPoints.Run(dir.File("crashed.qcow2"), template, image =>
        {
            image.SetRefcountBits(to);
            return image.RefcountBits == to;
        }, (crashed, n) =>
        {
            var what = $"crash after write {n}";
            var check = Qemu.Img("check", "-f", "qcow2", crashed);
            Assert.True(check.ExitCode is 0 or 3, $"{what}: qemu-img check exited {check.ExitCode}: {check.StandardError}{check.StandardOutput}");
            var width = Qemu.InfoJson(crashed).GetProperty("format-specific").GetProperty("data").GetProperty("refcount-bits").GetInt32();
            Assert.True(width == from || width == to, $"{what}: width {width}");
            widths.Add(width);
            var compare = Qemu.Img("compare", "-f", "qcow2", "-F", "qcow2", sample, crashed);
            Assert.True(compare.ExitCode == 0, $"{what}: " + compare.StandardOutput + compare.StandardError);
            Assert.Equal(snapshots, SnapshotAssert.QemuListWithoutDates(crashed));
        });
        Assert.True(writes >= 3, $"only {writes} writes");
        Assert.Equal(2, widths.Count);
    }

    [Fact]
    public void Widths_that_are_no_power_of_two_are_caller_mistakes()
    {
        using var image = Qcow2Image.Open(new MemoryStream(Create(3)), new Qcow2OpenOptions { Writable = true });
        Assert.Throws<ArgumentOutOfRangeException>(() => image.SetRefcountBits(3));
        Assert.Throws<ArgumentOutOfRangeException>(() => image.SetRefcountBits(128));
        Assert.Throws<ArgumentOutOfRangeException>(() => image.SetRefcountBits(0));
    }

    [Fact]
    public void A_version_2_image_keeps_16_bit_refcounts()
    {
        var bytes = Create(2);
        using var image = Qcow2Image.Open(new MemoryStream(bytes), new Qcow2OpenOptions { Writable = true });
        var error = Assert.Throws<InvalidOperationException>(() => image.SetRefcountBits(64));
        Assert.Contains("compatibility level 1.1", error.Message, StringComparison.Ordinal);
        Assert.Equal(16, image.RefcountBits);
    }

    private static byte[] Create(int version)
    {
        using var dir = new TempDir();
        var path = dir.File("image.qcow2");
        Qcow2Image.Create(path, 1 << 20, new Qcow2CreateOptions { Version = version }).Dispose();
        return File.ReadAllBytes(path);
    }
}
