using System.Text.Json.Nodes;
using Qcow2.Tests.Infrastructure;
using static Qcow2.Tests.GuestData.GuestImages;

namespace Qcow2.Tests.Verbs;

/// <summary>
/// <c>qcow2 rebase</c> against <c>qemu-img rebase</c> on copies of the same overlay: the guest data is what it was before
/// (<c>qemu-img compare</c> with the pre-rebase image), <c>qemu-img check</c> is clean, and info and the allocation are qemu-img's.
/// </summary>
[Trait("Category", "Interop")]
public sealed class RebaseTests
{
    [QemuTheory]
    [InlineData("../new.qcow2", "qcow2", "")]
    [InlineData("new.qcow2", "qcow2", "extended_l2=on")]
    [InlineData("new.raw", "raw", "")]
    [InlineData("", null, "")]
    [InlineData("", null, "compat=0.10")]
    public void Safe_rebase_keeps_the_guest_data_like_qemu(string newBacking, string? format, string overlayOptions)
    {
        using var dir = new TempDir();
        var top = Chain(dir, overlayOptions);
        AssertLikeQemu(dir, top, ["-b", newBacking is "" or ['.', ..] ? newBacking : dir.File(newBacking), .. format is null ? Array.Empty<string>() : ["-F", format]]);
    }

    [QemuFact]
    public void Unsafe_rebase_rewrites_only_the_header_like_qemu()
    {
        using var dir = new TempDir();
        var top = Chain(dir, "");
        var (ours, theirs) = Copies(dir, top);
        ToolRunner.Run("rebase", "-u", "-b", "../new.qcow2", "-F", "qcow2", ours).EnsureSuccess();
        Img("rebase", "-u", "-b", "../new.qcow2", "-F", "qcow2", theirs);
        Assert.Equal(Info(theirs), Info(ours));
        Assert.Equal(0, Qemu.CheckJson(ours).ExitCode);
        // Everything after cluster 0 is as it was.
        Assert.Equal(File.ReadAllBytes(top)[65536..], File.ReadAllBytes(ours)[65536..]);

        // -u without -b drops the backing file, as qemu-img does.
        ToolRunner.Run("rebase", "-u", ours).EnsureSuccess();
        Img("rebase", "-u", theirs);
        Assert.Equal(Info(theirs), Info(ours));
        using var image = Qcow2Image.Open(ours);
        Assert.Null(image.BackingFileName);
        Assert.Null(image.BackingFormat);
    }

    [QemuFact]
    public void Errors_are_qemu_img_s()
    {
        using var dir = new TempDir();
        var top = Chain(dir, "");
        var before = File.ReadAllBytes(top);
        VerbParity.AssertSameAsQemu("rebase", "-u", "-b", dir.File("new.qcow2"), top);
        VerbParity.AssertSameAsQemu("rebase", "-u", "-b", dir.File("new.qcow2"), "-F", "foo", top);
        VerbParity.AssertSameAsQemu("rebase", "-b", dir.File("nothere.qcow2"), "-F", "qcow2", top);
        Assert.Equal(before, File.ReadAllBytes(top));

        // Without -F, qemu-img copies the differences into the overlay before it refuses the new name; we refuse first.
        Assert.Equal(1, ToolRunner.Run("rebase", "-b", dir.File("new.qcow2"), top).ExitCode);
        Assert.Equal(before, File.ReadAllBytes(top));
        VerbParity.AssertSameAsQemu("rebase", "-b", dir.File("new.qcow2"), top);
        var missing = ToolRunner.Run("rebase", top);
        Assert.Equal(1, missing.ExitCode);
        Assert.Equal("qcow2: Must specify backing file (-b) or use unsafe mode (-u)\n", missing.StandardError);
    }

    [QemuFact]
    public void Force_share_opens_a_new_backing_file_another_process_writes()
    {
        using var dir = new TempDir();
        var top = Chain(dir, "", absolute: true);
        var newBacking = dir.File("new.qcow2");
        var (ours, theirs) = (dir.File("ours.qcow2"), dir.File("theirs.qcow2"));
        File.Copy(top, ours);
        File.Copy(top, theirs);
        string[] rebase = ["rebase", "-b", newBacking, "-F", "qcow2"];
        using (new QemuIoHolder(newBacking))
        {
            // Without -U both refuse the locked new backing file; with it both rebase.
            AssertSameFailure([.. rebase, ours], [.. rebase, theirs], ours, theirs);
            Assert.Equal(Info(top), Info(ours));
            ToolRunner.Run(["rebase", "-U", .. rebase[1..], ours]).EnsureSuccess();
            Img(["rebase", "-U", .. rebase[1..], theirs]);
        }
        Assert.Equal(Info(theirs), Info(ours));
        Assert.Equal(0, Qemu.CheckJson(ours).ExitCode);
        Img("compare", "-f", "qcow2", "-F", "qcow2", top, ours);

        // qemu-img 7.2 opens the old backing chain with the image, before -U is looked at: a locked one is refused all the same.
        File.Copy(top, ours, overwrite: true);
        File.Copy(top, theirs, overwrite: true);
        using (new QemuIoHolder(dir.File("base.qcow2")))
            AssertSameFailure(["rebase", "-U", .. rebase[1..], ours], ["rebase", "-U", .. rebase[1..], theirs], ours, theirs);
    }

    /// <summary>Both tools fail alike on copies of one image (qemu-img's two-line lock message is one line of ours).</summary>
    private static void AssertSameFailure(string[] ourArgs, string[] theirArgs, string ours, string theirs)
    {
        var (ourResult, theirResult) = (ToolRunner.Run(ourArgs), Qemu.Img(theirArgs));
        Assert.Equal((1, 1), (theirResult.ExitCode, ourResult.ExitCode));
        Assert.Equal(theirResult.StandardError.Replace("qemu-img: ", "qcow2: ", StringComparison.Ordinal).Replace(theirs, ours, StringComparison.Ordinal).ReplaceLineEndings(" ").TrimEnd(),
            ourResult.StandardError.TrimEnd());
    }

    [QemuFact]
    public void Safe_rebase_needs_the_old_chain_opened()
    {
        using var dir = new TempDir();
        var top = Chain(dir, "");
        using var image = Qcow2Image.Open(top, new Qcow2OpenOptions { Writable = true });
        Assert.Throws<InvalidOperationException>(() => image.Rebase(null, null, null));
        Assert.Throws<ArgumentException>(() => image.SetBackingFile("x.qcow2", null));
        Assert.Equal("base.qcow2", image.BackingFileName);
    }

    /// <summary>A crash after any write of a safe rebase leaves the guest data as it was, on the old or the new backing file.</summary>
    [QemuFact]
    public void A_crash_at_any_point_keeps_the_guest_data()
    {
        using var dir = new TempDir();
        var top = Chain(dir, "", absolute: true);
        var expected = QemuRaw(top, dir);
        var template = File.ReadAllBytes(top);
        var newBacking = dir.File("new.qcow2");
        int Rebase(CrashAfterWritesStream stream)
        {
            using var image = Qcow2Image.Open(stream, new Qcow2OpenOptions { Writable = true, OpenBackingChain = true, LeaveOpen = true });
            using var backing = Qcow2Image.Open(newBacking, new Qcow2OpenOptions { OpenBackingChain = true });
            image.Rebase(Qcow2VirtualDisk.FromImage(backing), newBacking, "qcow2");
            return stream.Writes;
        }
        var writes = Rebase(new CrashAfterWritesStream(template, int.MaxValue));
        Assert.InRange(writes, 3, 500);
        var crashed = dir.File("crashed.qcow2");
        for (var n = 0; n < writes; n++)
        {
            var stream = new CrashAfterWritesStream(template, n);
            Rebase(stream);
            File.WriteAllBytes(crashed, stream.PersistedBytes);
            var check = Qemu.Img("check", "-f", "qcow2", crashed);
            Assert.True(check.ExitCode is 0 or 3, $"crash after {n} writes: {check.StandardOutput}{check.StandardError}");
            AssertSameBytes(expected, QemuRaw(crashed, dir), $"crash after {n} writes");
        }
    }

    /// <summary>
    /// base.qcow2 (4 MiB) and new.qcow2 / new.raw (6 MiB) with partly equal data, and top.qcow2 (6 MiB) on base.qcow2 with data,
    /// zeros and a cluster past the end of its backing file.
    /// </summary>
    private static string Chain(TempDir dir, string overlayOptions, bool absolute = false)
    {
        var basePath = dir.File("base.qcow2");
        Img("create", "-q", "-f", "qcow2", basePath, "4M");
        Io(basePath, "write -P 1 0 2M", "write -P 7 3M 64k", "write -z 2M 64k");
        var newPath = dir.File("new.qcow2");
        Img("create", "-q", "-f", "qcow2", newPath, "6M");
        Io(newPath, "write -P 1 0 1M", "write -P 9 1M 2M", "write -P 4 4M 1M");
        Img("convert", "-O", "raw", newPath, dir.File("new.raw"));
        var top = dir.File("top.qcow2");
        string[] options = overlayOptions.Length > 0 ? ["-o", overlayOptions] : [];
        Img(["create", "-q", "-f", "qcow2", .. options, "-b", absolute ? basePath : "base.qcow2", "-F", "qcow2", top, "6M"]);
        Io(top, "write -P 2 512k 100k", "write -z 1M 64k", "write -P 3 5M 4k", "write -P 5 3M 8k");
        return top;
    }

    private static (string Ours, string Theirs) Copies(TempDir dir, string top)
    {
        Directory.CreateDirectory(dir.File("ours"));
        Directory.CreateDirectory(dir.File("theirs"));
        var (ours, theirs) = (dir.File("ours/top.qcow2"), dir.File("theirs/top.qcow2"));
        File.Copy(top, ours);
        File.Copy(top, theirs);
        // The overlay names its backing file relative to its folder.
        foreach (var folder in new[] { "ours", "theirs" })
            File.Copy(dir.File("base.qcow2"), dir.File($"{folder}/base.qcow2"));
        return (ours, theirs);
    }

    private static void AssertLikeQemu(TempDir dir, string top, string[] args)
    {
        var (ours, theirs) = Copies(dir, top);
        ToolRunner.Run(["rebase", .. args, ours]).EnsureSuccess();
        Img(["rebase", .. args, theirs]);
        Assert.Equal("Images are identical.\n", Qemu.Img("compare", top, ours).EnsureSuccess("qemu-img compare").StandardOutput);
        var (exit, json, _) = Qemu.CheckJson(ours);
        Assert.Equal(0, exit);
        Assert.Equal(Qemu.CheckJson(theirs).Json!.Value.GetProperty("allocated-clusters").GetInt64(), json!.Value.GetProperty("allocated-clusters").GetInt64());
        Assert.Equal(Info(theirs), Info(ours));
        Assert.Equal(Map(theirs), Map(ours));
    }

    /// <summary><c>qemu-img info</c> without the file's name and size on the host.</summary>
    internal static string Info(string image)
    {
        var info = JsonNode.Parse(Qemu.InfoJson(image).GetRawText())!.AsObject();
        info.Remove("filename");
        info.Remove("full-backing-filename");
        info.Remove("actual-size");
        return info.ToJsonString();
    }

    /// <summary>
    /// <c>qemu-img map</c> reduced to what the guest sees where: host offsets left out, and runs merged whose only difference
    /// is whether the image file has a hole there (QEMU writes fewer explicit zeros in some places).
    /// </summary>
    internal static string Map(string image)
    {
        var runs = new List<(long Start, long Length, string Facts)>();
        foreach (var run in JsonNode.Parse(Qemu.Img("map", "--output=json", image).EnsureSuccess("qemu-img map").StandardOutput)!.AsArray())
        {
            var data = run!["data"]!.GetValue<bool>();
            var facts = $"{run["depth"]} {run["present"]} {(data ? "data" : run["zero"]!.GetValue<bool>() ? "zero" : "none")}";
            var (start, length) = (run["start"]!.GetValue<long>(), run["length"]!.GetValue<long>());
            if (runs.Count > 0 && runs[^1].Facts == facts)
                runs[^1] = runs[^1] with { Length = runs[^1].Length + length };
            else
                runs.Add((start, length, facts));
        }
        return string.Join('\n', runs);
    }
}
