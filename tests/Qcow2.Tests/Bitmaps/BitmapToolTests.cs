using Qcow2.Tests.Infrastructure;
using Qcow2.Tests.Tool;
using static Qcow2.Tests.Bitmaps.BitmapTestSupport;

namespace Qcow2.Tests.Bitmaps;

/// <summary><c>qcow2 bitmap</c> against <c>qemu-img bitmap</c>: same results, same usage errors, and the --dump output.</summary>
public sealed class BitmapToolTests
{
    public static TheoryData<string[]> ActionSequences =>
    [
        ["--add", "new"],
        ["--add", "-g", "512", "--disable", "new"],
        ["--add", "--disable", "--enable", "new"],
        ["--add", "-g", "1M", "--remove", "new"],
        ["--disable", "--clear", "b"],
        ["--merge", "b", "--disable", "d"],
        ["--remove", "b"],
    ];

    /// <summary>
    /// Several actions commit together: when a later one fails, the earlier ones are not kept either. (qemu-img keeps them:
    /// after <c>--disable --add b</c> fails on an existing b, b is disabled.)
    /// </summary>
    [QemuFact]
    public void A_failing_later_action_leaves_the_bitmaps_as_they_were()
    {
        using var dir = new TempDir();
        var path = dir.File("x.qcow2");
        Create(path, "64M");
        Qemu.Img("bitmap", "--add", path, "b").EnsureSuccess("add");
        Write(path, (0, 65536));
        var (state, qemuState) = (State(path), QemuBitmaps(path));

        var line = ToolRunner.AssertSingleLineError(ToolRunner.Run("bitmap", "--disable", "--clear", "--add", path, "b"));
        Assert.Equal("qcow2: Operation add on bitmap b failed: Bitmap already exists: b", line);
        // Still enabled, still dirty; the clusters the abandoned steps wrote are free again.
        Assert.Equal(state, State(path));
        Assert.Equal(qemuState, QemuBitmaps(path));
        AssertQemuCheckClean(path);
    }

    /// <summary>Several actions apply in order, as in qemu-img.</summary>
    [QemuTheory]
    [MemberData(nameof(ActionSequences))]
    public void Actions_apply_in_order_like_qemu_img(string[] args)
    {
        using var dir = new TempDir();
        var ours = dir.File("ours.qcow2");
        Create(ours, "64M");
        Qemu.Img("bitmap", "--add", "-g", "4k", ours, "b").EnsureSuccess("add");
        Qemu.Img("bitmap", "--add", "--disable", ours, "d").EnsureSuccess("add");
        Write(ours, (1 << 20, 8192));
        var theirs = dir.File("theirs.qcow2");
        File.Copy(ours, theirs);

        ToolRunner.Run(["bitmap", .. args[..^1], "-f", "qcow2", ours, args[^1]]).EnsureSuccess();
        Qemu.Img(["bitmap", .. args[..^1], "-f", "qcow2", theirs, args[^1]]).EnsureSuccess("qemu-img bitmap");
        AssertQemuCheckClean(ours);
        Assert.Equal(QemuBitmaps(theirs), QemuBitmaps(ours));
        Assert.Equal(State(theirs), State(ours));
    }

    public static TheoryData<string[]> UsageErrors =>
    [
        ["bitmap", "FILE", "b"],
        ["bitmap", "-g", "1M", "FILE", "b"],
        ["bitmap", "--remove", "-g", "1M", "FILE", "b"],
        ["bitmap", "--add", "-F", "qcow2", "FILE", "b"],
        ["bitmap", "--add", "-b", "FILE", "FILE", "b"],
        ["bitmap", "--add", "FILE"],
        ["bitmap", "--add", "FILE", "b", "c"],
        ["bitmap", "--add", "-g", "abc", "FILE", "b"],
    ];

    [QemuTheory]
    [MemberData(nameof(UsageErrors))]
    public void Usage_errors_match_qemu_img(string[] template)
    {
        using var dir = new TempDir();
        var path = dir.File("a.qcow2");
        Create(path, "64M");
        var args = template.Select(a => a == "FILE" ? path : a).ToArray();
        var qemu = Qemu.Img(args);
        Assert.Equal(1, qemu.ExitCode);
        var qemuLines = qemu.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l["qemu-img: ".Length..]);
        var line = ToolRunner.AssertSingleLineError(ToolRunner.Run(args));
        Assert.Equal("qcow2: " + string.Join(' ', qemuLines), line);
    }

    [QemuFact]
    public void Dump_prints_sorted_coalesced_ranges_as_human_and_json()
    {
        using var dir = new TempDir();
        var path = dir.File("a.qcow2");
        Create(path, "64M");
        ToolRunner.Run("bitmap", "--add", "-g", "4k", path, "b").EnsureSuccess();
        ToolRunner.Run("bitmap", "--add", path, "empty", "--disable").EnsureSuccess();
        Write(path, (10 << 20, 1), (4096, 4096), (8192, 100), (60L << 20, 65536));

        var human = ToolRunner.Run("bitmap", "--dump", path, "b").EnsureSuccess();
        Assert.Equal("start=4096 length=8192\nstart=10485760 length=4096\nstart=62914560 length=65536\n", human.StandardOutput);
        Assert.Equal(human.StandardOutput, ToolRunner.Run("bitmap", "--dump", "--output=human", path, "b").EnsureSuccess().StandardOutput);

        var json = ToolRunner.Run("bitmap", "--dump", "--output=json", path, "b").EnsureSuccess().Json();
        Assert.Equal(3, json.GetArrayLength());
        Assert.Equal([(4096L, 8192L), (10485760L, 4096L), (62914560L, 65536L)],
            json.EnumerateArray().Select(e => (e.GetProperty("start").GetInt64(), e.GetProperty("length").GetInt64())).ToArray());

        Assert.Equal("", ToolRunner.Run("bitmap", "--dump", path, "empty").EnsureSuccess().StandardOutput);
        Assert.Equal(0, ToolRunner.Run("bitmap", "--dump", "--output=json", path, "empty").EnsureSuccess().Json().GetArrayLength());

        Assert.Equal("qcow2: Operation dump on bitmap nope failed: Dirty bitmap 'nope' not found",
            ToolRunner.AssertSingleLineError(ToolRunner.Run("bitmap", "--dump", path, "nope")));
        ToolRunner.AssertSingleLineError(ToolRunner.Run("bitmap", "--dump", "--add", path, "b"));
        ToolRunner.AssertSingleLineError(ToolRunner.Run("bitmap", "--dump", "--output=xml", path, "b"));
        MarkInUse(path, "b");
        Assert.StartsWith("qcow2: Operation dump on bitmap b failed: Bitmap 'b' is inconsistent and cannot be used",
            ToolRunner.AssertSingleLineError(ToolRunner.Run("bitmap", "--dump", path, "b")));
    }

    [QemuFact]
    public void Merge_from_another_file_with_b_and_F()
    {
        using var dir = new TempDir();
        var source = dir.File("s.qcow2");
        var target = dir.File("t.qcow2");
        Create(source, "64M");
        Create(target, "64M");
        ToolRunner.Run("bitmap", "--add", "-g", "64k", source, "s").EnsureSuccess();
        ToolRunner.Run("bitmap", "--add", "-g", "64k", target, "t").EnsureSuccess();
        Write(source, (1 << 20, 1));
        var sourceBytes = File.ReadAllBytes(source);
        ToolRunner.Run("bitmap", "--merge", "s", "-b", source, "-F", "qcow2", target, "t").EnsureSuccess();
        Assert.Equal("start=1048576 length=65536\n", ToolRunner.Run("bitmap", "--dump", target, "t").EnsureSuccess().StandardOutput);
        Assert.Equal(sourceBytes, File.ReadAllBytes(source)); // the source is opened read-only
        AssertQemuCheckClean(target);
    }

    [Fact]
    public void Help_lists_the_bitmap_verb_and_its_usage()
    {
        Assert.Contains("bitmap", ToolRunner.Run("--help").EnsureSuccess().StandardOutput);
        var help = ToolRunner.Run("bitmap", "--help").EnsureSuccess().StandardOutput;
        Assert.StartsWith("usage: qcow2 bitmap", help);
        foreach (var option in new[] { "--add", "--remove", "--clear", "--enable", "--disable", "--merge", "--dump", "-g", "-b", "-F", "--output" })
            Assert.Contains(option, help);
    }
}
