using Qcow2.Tests.Infrastructure;
using Qcow2.Tests.Snapshots;
using Qcow2.Tests.Tool;

namespace Qcow2.Tests.Amend;

/// <summary>`qcow2 amend` against `qemu-img amend` on copies of one image: same verdicts, messages, and resulting images.</summary>
public sealed class AmendInteropTests
{
    /// <summary>Image creation options, what to do to it before amending, and the amend options.</summary>
    public static TheoryData<string, string, string> Cases => new()
    {
        { "compat=0.10", "data snapshot", "compat=1.1" },
        { "compat=0.10", "data", "compat=v3,lazy_refcounts=on" },
        { "compat=1.1,lazy_refcounts=on", "data snapshot", "compat=0.10" },
        { "compat=1.1", "data", "compat=v2" },
        { "compat=1.1", "", "compat=1.1" },
        { "compat=1.1", "", "compat=2" },
        { "compat=1.1", "", "compat=0.10,lazy_refcounts=on" },
        { "compat=1.1", "", "compat=0.10,refcount_bits=8" },
        { "refcount_bits=64", "", "compat=0.10" },
        { "extended_l2=on", "", "compat=0.10" },
        { "compat=1.1", "", "refcount_bits=3" },
        { "compat=1.1", "", "refcount_bits=16" },
        { "compat=1.1", "", "cluster_size=4096" },
        { "compat=1.1", "", "extended_l2=on" },
        { "compat=1.1", "", "compression_type=zstd" },
        { "compat=1.1", "", "backing_file=other.qcow2" },
        { "compat=1.1", "backing", "backing_file=base.qcow2,backing_fmt=qcow2" },
        { "compat=1.1", "backing", "backing_fmt=raw" },
        { "compat=0.10", "", "lazy_refcounts=on" },
    };

    [QemuTheory]
    [MemberData(nameof(Cases))]
    public void Amend_matches_qemu_img(string createOptions, string setup, string amendOptions)
    {
        using var dir = new TempDir();
        var ours = dir.File("ours.qcow2");
        var args = new List<string> { "create", "-q", "-f", "qcow2", "-o", createOptions };
        if (setup.Contains("backing", StringComparison.Ordinal))
        {
            Qemu.Img("create", "-q", "-f", "qcow2", dir.File("base.qcow2"), "1M").EnsureSuccess("base");
            args.AddRange(["-b", "base.qcow2", "-F", "qcow2"]);
        }
        args.AddRange([ours, "1M"]);
        Qemu.Img([.. args]).EnsureSuccess("create");
        if (setup.Contains("data", StringComparison.Ordinal))
            Qemu.Io("-f", "qcow2", "-c", "write -P 0x5a 0 128k", ours).EnsureSuccess("write");
        if (setup.Contains("snapshot", StringComparison.Ordinal))
        {
            Qemu.Img("snapshot", "-c", "s1", ours).EnsureSuccess("snapshot");
            Qemu.Io("-f", "qcow2", "-c", "write -P 0x66 64k 64k", ours).EnsureSuccess("write");
        }
        var theirs = dir.File("theirs.qcow2");
        File.Copy(ours, theirs);
        var before = File.ReadAllBytes(ours);

        var ourResult = ToolRunner.Run("amend", "-o", amendOptions, ours);
        var qemuResult = Qemu.Img("amend", "-o", amendOptions, theirs);
        Assert.Equal(qemuResult.ExitCode, ourResult.ExitCode);
        if (qemuResult.ExitCode != 0)
        {
            // qemu-img puts a hint on a second line; the tool folds it into its one line.
            var qemuMessage = string.Join(' ', qemuResult.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries)).Replace("qemu-img: ", "qcow2: ", StringComparison.Ordinal);
            Assert.Equal(qemuMessage, ourResult.StandardError.TrimEnd('\n'));
            Assert.Equal(before, File.ReadAllBytes(ours));
            return;
        }
        SnapshotAssert.Clean(ours, "ours");
        Assert.Equal(Qemu.InfoJson(theirs).GetProperty("format-specific").ToString(), Qemu.InfoJson(ours).GetProperty("format-specific").ToString());
        Assert.Equal(SnapshotAssert.QemuListWithoutDates(theirs), SnapshotAssert.QemuListWithoutDates(ours));
        var compare = Qemu.Img("compare", "-f", "qcow2", "-F", "qcow2", ours, theirs);
        Assert.True(compare.ExitCode == 0, compare.StandardOutput + compare.StandardError);
    }

    /// <summary>
    /// Where QEMU 7.2's downgrade loses something (persistent bitmaps are dropped, zstd clusters would be read as zlib),
    /// ours refuses and leaves the file as it was.
    /// </summary>
    [QemuTheory]
    [InlineData("bitmap", "Cannot downgrade an image with persistent bitmaps")]
    [InlineData("zstd", "Cannot downgrade an image whose compression type is not zlib")]
    public void Downgrade_is_refused_where_version_2_cannot_hold_the_image(string what, string message)
    {
        using var dir = new TempDir();
        var path = dir.File("image.qcow2");
        Qemu.Img("create", "-q", "-f", "qcow2", "-o", what == "zstd" ? "compression_type=zstd" : "compat=1.1", path, "1M").EnsureSuccess("create");
        if (what == "bitmap")
            Qemu.Img("bitmap", "--add", path, "b0").EnsureSuccess("bitmap");
        var before = File.ReadAllBytes(path);
        var result = ToolRunner.Run("amend", "-o", "compat=0.10", path);
        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("qcow2: " + message, result.StandardError, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(path));
    }

    [QemuFact]
    public void Progress_is_printed_like_qemu_img()
    {
        using var dir = new TempDir();
        var path = dir.File("image.qcow2");
        Qemu.Img("create", "-q", "-f", "qcow2", path, "1M").EnsureSuccess("create");
        var theirs = Qemu.Img("amend", "-p", "-o", "compat=1.1", path);
        var ours = ToolRunner.Run("amend", "-p", "-o", "compat=1.1", path);
        Assert.Equal(theirs.StandardOutput, ours.StandardOutput);
    }

    /// <summary>A version change is one rewrite of cluster 0: a crash leaves the old or the new version, clean either way.</summary>
    [QemuTheory]
    [InlineData("compat=0.10", 3)]
    [InlineData("compat=1.1", 2)]
    public void Every_crash_point_of_a_version_change_is_safe(string createOptions, int target)
    {
        using var dir = new TempDir();
        var path = dir.File("template.qcow2");
        Qemu.Img("create", "-q", "-f", "qcow2", "-o", createOptions, path, "1M").EnsureSuccess("create");
        Qemu.Io("-f", "qcow2", "-c", "write -P 0x5a 0 128k", path).EnsureSuccess("write");
        Qemu.Img("snapshot", "-c", "s1", path).EnsureSuccess("snapshot");
        var template = File.ReadAllBytes(path);
        var versions = new HashSet<int>();
        var writes = CrashPoints.Run(dir.File("crashed.qcow2"), template, image =>
        {
            image.SetVersion(target);
            return true;
        }, (crashed, n) =>
        {
            using (var image = Qcow2Image.Open(crashed))
                versions.Add(image.Version);
            SnapshotAssert.Clean(crashed, $"crash after write {n}");
            Assert.Contains("s1", Qemu.Img("snapshot", "-l", crashed).StandardOutput, StringComparison.Ordinal);
        });
        Assert.Equal(1, writes);
        Assert.Equal(2, versions.Count);
    }
}
