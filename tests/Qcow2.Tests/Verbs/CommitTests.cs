using Qcow2.Tests.Infrastructure;
using static Qcow2.Tests.GuestData.GuestImages;

namespace Qcow2.Tests.Verbs;

/// <summary>
/// <c>qcow2 commit</c> against <c>qemu-img commit</c> on copies of the same chain: the backing file ends up with the same guest
/// data and allocation as qemu-img's, the overlay is emptied the same way, and both images check clean.
/// </summary>
[Trait("Category", "Interop")]
public sealed class CommitTests
{
    [QemuTheory]
    [InlineData("", "4M", false)]
    [InlineData("extended_l2=on", "6M", false)]
    [InlineData("cluster_size=4k", "6M", true)]
    public void Commit_is_qemu_img_s(string overlayOptions, string baseSize, bool keep)
    {
        using var dir = new TempDir();
        var top = Chain(dir, overlayOptions, baseSize);
        var expected = QemuRaw(top, dir);
        string[] options = keep ? ["-d"] : [];
        var ours = Copy(dir, "ours");
        var theirs = Copy(dir, "theirs");
        Assert.Equal("Image committed.\n", ToolRunner.Run(["commit", .. options, ours]).EnsureSuccess().StandardOutput);
        Img(["commit", "-q", .. options, theirs]);
        var (ourBase, theirBase) = (dir.File("ours/base.qcow2"), dir.File("theirs/base.qcow2"));
        AssertSameBytes(expected, QemuRaw(ours, dir), "the overlay's guest data");
        Assert.Equal("Images are identical.\n", Qemu.Img("compare", theirBase, ourBase).StandardOutput);
        foreach (var image in new[] { ours, ourBase })
        {
            Assert.Equal(0, Qemu.CheckJson(image).ExitCode);
            Assert.Equal(RebaseTests.Info(image.Replace("ours", "theirs", StringComparison.Ordinal)), RebaseTests.Info(image));
            Assert.Equal(RebaseTests.Map(image.Replace("ours", "theirs", StringComparison.Ordinal)), RebaseTests.Map(image));
        }
    }

    [QemuFact]
    public void Commit_into_a_raw_backing_file_is_qemu_img_s()
    {
        using var dir = new TempDir();
        var raw = dir.File("base.raw");
        WriteMixedRaw(raw, 4 << 20, seed: 9);
        foreach (var folder in new[] { "ours", "theirs" })
        {
            Directory.CreateDirectory(dir.File(folder));
            File.Copy(raw, dir.File($"{folder}/base.raw"));
            // The overlay is larger than its raw backing file, which commit grows.
            Img("create", "-q", "-f", "qcow2", "-b", "base.raw", "-F", "raw", dir.File($"{folder}/top.qcow2"), "6M");
            Io(dir.File($"{folder}/top.qcow2"), "write -P 2 512k 100k", "write -z 1M 64k", "write -P 3 5M 64k", "write -z 3M 4k");
        }
        var (ours, theirs) = (dir.File("ours/top.qcow2"), dir.File("theirs/top.qcow2"));
        var expected = QemuRaw(ours, dir);
        Assert.Equal("Image committed.\n", ToolRunner.Run("commit", ours).EnsureSuccess().StandardOutput);
        Img("commit", "-q", theirs);
        Assert.Equal(File.ReadAllBytes(dir.File("theirs/base.raw")), File.ReadAllBytes(dir.File("ours/base.raw")));
        AssertSameBytes(expected, QemuRaw(ours, dir), "the overlay's guest data");
        Assert.Equal(0, Qemu.CheckJson(ours).ExitCode);
        Assert.Equal(RebaseTests.Map(theirs), RebaseTests.Map(ours));

        // Locked while QEMU uses it, as a qcow2 backing file is.
        using (new QemuIoHolder(dir.File("ours/base.raw"), "-f", "raw"))
            Assert.Contains("lock", ToolRunner.AssertSingleLineError(ToolRunner.Run("commit", ours)), StringComparison.Ordinal);
    }

    [QemuFact]
    public void Errors_are_qemu_img_s()
    {
        using var dir = new TempDir();
        var top = Chain(dir, "", "4M");
        VerbParity.AssertSameAsQemu("commit", dir.File("base.qcow2"));
        VerbParity.AssertSameAsQemu("commit", "-q", dir.File("base.qcow2"));

        // The backing file is written, so it is locked: refused while QEMU uses it, and nothing changes.
        var (topBefore, baseBefore) = (File.ReadAllBytes(top), File.ReadAllBytes(dir.File("base.qcow2")));
        using (new QemuIoHolder(dir.File("base.qcow2")))
        {
            var line = ToolRunner.AssertSingleLineError(ToolRunner.Run("commit", top));
            Assert.Contains("lock", line, StringComparison.Ordinal);
        }
        Assert.Equal(topBefore, File.ReadAllBytes(top));
        Assert.Equal(baseBefore, File.ReadAllBytes(dir.File("base.qcow2")));

        using var chained = Qcow2Image.Open(top, new Qcow2OpenOptions { Writable = true, OpenBackingChain = true });
        Assert.Throws<InvalidOperationException>(() => chained.Commit());
    }

    /// <summary>
    /// A crash after any write to the overlay while it is emptied (the backing file is complete and flushed before) leaves the
    /// guest data as it was and the overlay consistent.
    /// </summary>
    [QemuFact]
    public void A_crash_while_emptying_keeps_the_guest_data()
    {
        using var dir = new TempDir();
        var top = Chain(dir, "", "4M", absolute: true);
        var expected = QemuRaw(top, dir);
        var template = File.ReadAllBytes(top);
        int Commit(CrashAfterWritesStream stream)
        {
            using var image = Qcow2Image.Open(stream, new Qcow2OpenOptions { Writable = true, LeaveOpen = true });
            image.Commit();
            return stream.Writes;
        }
        var writes = Commit(new CrashAfterWritesStream(template, int.MaxValue));
        Assert.InRange(writes, 2, 500);
        var crashed = dir.File("crashed.qcow2");
        for (var n = 0; n <= writes; n++)
        {
            var stream = new CrashAfterWritesStream(template, n);
            Commit(stream);
            File.WriteAllBytes(crashed, stream.PersistedBytes);
            var check = Qemu.Img("check", "-f", "qcow2", crashed);
            Assert.True(check.ExitCode is 0 or 3, $"crash after {n} writes: {check.StandardOutput}{check.StandardError}");
            AssertSameBytes(expected, QemuRaw(crashed, dir), $"crash after {n} writes");
        }
    }

    /// <summary>
    /// <c>commit -b BASE</c> on a three-image chain: BASE ends up as qemu-img's (the top's and the middle image's data in it), no
    /// image above it changes (the top is not emptied), and every layer checks clean. BASE is named as qemu-img resolves it:
    /// relative to the folder of the image naming it, or absolute.
    /// </summary>
    [QemuTheory]
    [InlineData("base.qcow2", "")]
    [InlineData("./base.qcow2", "-d")]
    [InlineData("ABSOLUTE", "")]
    [InlineData("mid.qcow2", "")]
    public void Commit_into_a_base_down_the_chain_is_qemu_img_s(string baseName, string extra)
    {
        using var dir = new TempDir();
        ThreeLayers(dir);
        string Layer(string folder, string name) => dir.File($"{folder}/{name}");
        string[] Args(string folder) =>
            ["commit", "-q", .. extra.Length > 0 ? [extra] : Array.Empty<string>(), "-b", baseName == "ABSOLUTE" ? Layer(folder, "base.qcow2") : baseName, Layer(folder, "top.qcow2")];
        foreach (var folder in new[] { "ours", "theirs" })
        {
            Directory.CreateDirectory(dir.File(folder));
            foreach (var name in Layers)
                File.Copy(dir.File(name), Layer(folder, name));
        }
        var before = Layers.ToDictionary(name => name, name => File.ReadAllBytes(dir.File(name)));
        var topData = QemuRaw(dir.File("top.qcow2"), dir);
        Assert.Equal("", ToolRunner.Run(Args("ours")).EnsureSuccess().StandardOutput);
        Img(Args("theirs"));
        var committed = baseName == "mid.qcow2" ? "mid.qcow2" : "base.qcow2";
        Assert.Equal("Images are identical.\n", Qemu.Img("compare", Layer("theirs", committed), Layer("ours", committed)).StandardOutput);
        AssertSameBytes(topData, QemuRaw(Layer("ours", committed), dir), "the base shows what the top showed");
        foreach (var name in Layers)
        {
            Assert.Equal(0, Qemu.CheckJson(Layer("ours", name)).ExitCode);
            Assert.Equal(RebaseTests.Map(Layer("theirs", name)), RebaseTests.Map(Layer("ours", name)));
            if (name != committed)
                Assert.Equal(before[name], File.ReadAllBytes(Layer("ours", name)));
        }
    }

    [QemuFact]
    public void Errors_of_commit_into_a_base_are_qemu_img_s()
    {
        using var dir = new TempDir();
        ThreeLayers(dir);
        var before = Layers.ToDictionary(name => name, name => File.ReadAllBytes(dir.File(name)));
        var top = dir.File("top.qcow2");
        foreach (var name in new[] { "nothere.qcow2", top, "top.qcow2", "sub/base.qcow2", dir.File("sub/../nothere/../base.qcow2") })
            VerbParity.AssertSameAsQemu("commit", "-b", name, top);
        VerbParity.AssertSameAsQemu("commit", "-b", "mid.qcow2", dir.File("base.qcow2"));
        VerbParity.AssertSameAsQemu("commit", "-b", "top.qcow2", dir.File("mid.qcow2"));

        // The base is written, so it is locked: refused while QEMU uses it; and nothing changes.
        using (new QemuIoHolder(dir.File("base.qcow2")))
            Assert.Contains("lock", ToolRunner.AssertSingleLineError(ToolRunner.Run("commit", "-b", "base.qcow2", top)), StringComparison.Ordinal);
        // An image in between is read by another process (without its backing file): its data would change underneath, so
        // the commit is refused, as qemu-img's is.
        var midAlone = $$"""json:{"file":{"driver":"file","filename":"{{dir.File("mid.qcow2")}}"},"backing":null}""";
        using (new QemuIoHolder(midAlone, "-r", "-f", "qcow2"))
        {
            Assert.Contains("Failed to get shared \"consistent read\" lock", Qemu.Img("commit", "-b", "base.qcow2", top).StandardError, StringComparison.Ordinal);
            Assert.Contains("Failed to get shared \"consistent read\" lock", ToolRunner.AssertSingleLineError(ToolRunner.Run("commit", "-b", "base.qcow2", top)),
                StringComparison.Ordinal);
        }
        foreach (var name in Layers)
            Assert.Equal(before[name], File.ReadAllBytes(dir.File(name)));

        using var image = Qcow2Image.Open(top);
        Assert.Equal("baseFileName", Assert.Throws<ArgumentException>(() => image.CommitInto("nothere.qcow2")).ParamName);
        using var chained = Qcow2Image.Open(top, new Qcow2OpenOptions { OpenBackingChain = true });
        Assert.Throws<InvalidOperationException>(() => chained.CommitInto("base.qcow2"));
    }

    /// <summary>A crash after any write to the base leaves each of its clusters old or new, and the base consistent.</summary>
    [QemuFact]
    public void A_crash_while_committing_into_a_base_leaves_it_consistent()
    {
        using var dir = new TempDir();
        ThreeLayers(dir);
        var oldData = QemuRaw(dir.File("base.qcow2"), dir);
        var newData = QemuRaw(dir.File("top.qcow2"), dir);
        var crashed = dir.File("crashed.qcow2");
        var writes = CrashPoints.Run(crashed, File.ReadAllBytes(dir.File("base.qcow2")), baseImage =>
        {
            using var top = Qcow2Image.Open(dir.File("top.qcow2"));
            top.CommitInto("base.qcow2", _ => Qcow2VirtualDisk.FromImage(baseImage), null, default);
            return true;
        }, (path, n) =>
        {
            var check = Qemu.Img("check", "-f", "qcow2", path);
            Assert.True(check.ExitCode is 0 or 3, $"crash after {n} writes: {check.StandardOutput}{check.StandardError}");
            var data = QemuRaw(path, dir);
            for (var offset = 0; offset < data.Length; offset += 64 << 10)
            {
                var cluster = data.AsSpan(offset, 64 << 10);
                Assert.True(cluster.SequenceEqual(oldData.AsSpan(offset, 64 << 10)) || cluster.SequenceEqual(newData.AsSpan(offset, 64 << 10)),
                    $"crash after {n} writes: the cluster at {offset} is neither old nor new");
            }
        });
        Assert.InRange(writes, 2, 500);
    }

    private static readonly string[] Layers = ["base.qcow2", "mid.qcow2", "top.qcow2"];

    /// <summary>base.qcow2, mid.qcow2 and top.qcow2 (4 MiB each, relative names), each with data, zeros over data, and data over data.</summary>
    private static void ThreeLayers(TempDir dir)
    {
        Img("create", "-q", "-f", "qcow2", dir.File("base.qcow2"), "4M");
        Img("create", "-q", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2", dir.File("mid.qcow2"));
        Img("create", "-q", "-f", "qcow2", "-b", "mid.qcow2", "-F", "qcow2", dir.File("top.qcow2"));
        Io(dir.File("base.qcow2"), "write -P 1 0 1M", "write -P 7 3M 128k");
        Io(dir.File("mid.qcow2"), "write -P 2 512k 1M", "write -z 3M 64k", "write -P 8 2560k 4k");
        Io(dir.File("top.qcow2"), "write -P 3 1M 1M", "write -z 768k 64k", "write -P 9 3136k 64k");
    }

    /// <summary>base.qcow2 with data, and top.qcow2 (6 MiB) on it with data over it, zeros over data, and data past its end.</summary>
    private static string Chain(TempDir dir, string overlayOptions, string baseSize, bool absolute = false)
    {
        var basePath = dir.File("base.qcow2");
        Img("create", "-q", "-f", "qcow2", basePath, baseSize);
        Io(basePath, "write -P 1 0 2M", "write -P 6 3M 64k");
        var top = dir.File("top.qcow2");
        string[] options = overlayOptions.Length > 0 ? ["-o", overlayOptions] : [];
        Img(["create", "-q", "-f", "qcow2", .. options, "-b", absolute ? basePath : "base.qcow2", "-F", "qcow2", top, "6M"]);
        Io(top, "write -P 2 512k 100k", "write -z 1M 64k", "write -P 3 5M 64k", "write -z 3M 4k", "write -P 4 2M 8k");
        return top;
    }

    private static string Copy(TempDir dir, string folder)
    {
        Directory.CreateDirectory(dir.File(folder));
        File.Copy(dir.File("base.qcow2"), dir.File($"{folder}/base.qcow2"));
        File.Copy(dir.File("top.qcow2"), dir.File($"{folder}/top.qcow2"));
        return dir.File($"{folder}/top.qcow2");
    }
}
