using Qcow2.Tests.Infrastructure;
using static Qcow2.Tests.Bitmaps.BitmapTestSupport;

namespace Qcow2.Tests.Bitmaps;

/// <summary>
/// Each public bitmap operation against the same operation done by <c>qemu-img bitmap</c> on a copy: qemu-img info must list
/// the same bitmaps (name, flags, granularity, order), qemu-img check must find both images clean, both must hold the same
/// bits, and QEMU must be able to load and keep tracking writes in what we wrote.
/// </summary>
public sealed class BitmapOperationInteropTests
{
    private const long Size = 64L << 20;
    private static readonly (long, long)[] FirstWrites = [(0, 4096), (1 << 20, 100_000), (40L << 20, 512), ((64L << 20) - 512, 512)];
    private static readonly (long, long)[] LaterWrites = [(8L << 20, 65536), (33L << 20, 1)];

    public static TheoryData<string> Operations =>
    [
        "add", "add-512-disabled", "add-2G", "add-then-disable-then-enable", "remove-first", "remove-all", "clear", "enable", "disable",
        "merge-same-image", "merge-into-itself", "remove-in-use",
    ];

    [QemuTheory]
    [MemberData(nameof(Operations))]
    public void Operation_matches_qemu_img(string operation)
    {
        using var dir = new TempDir();
        var baseImage = dir.File("base.qcow2");
        Create(baseImage, "64M");
        Qemu.Img("bitmap", "--add", "-g", "4k", baseImage, "base").EnsureSuccess("add");
        Qemu.Img("bitmap", "--add", "--disable", baseImage, "other").EnsureSuccess("add");
        Qemu.Img("bitmap", "--add", "-g", "1M", baseImage, "third").EnsureSuccess("add");
        Write(baseImage, FirstWrites);
        if (operation == "remove-in-use")
            MarkInUse(baseImage, "other");
        var ours = dir.File("ours.qcow2");
        var theirs = dir.File("theirs.qcow2");
        File.Copy(baseImage, ours);
        File.Copy(baseImage, theirs);

        string[][] qemuRuns;
        using (var image = Qcow2Image.Open(ours, new Qcow2OpenOptions { Writable = true }))
        {
            qemuRuns = Apply(operation, image);
            Assert.Equal(0, image.Check().ExitCode());
        }
        foreach (var run in qemuRuns)
            Qemu.Img(["bitmap", .. run[..^1], theirs, run[^1]]).EnsureSuccess("qemu-img bitmap " + string.Join(' ', run));

        AssertQemuCheckClean(ours);
        AssertQemuCheckClean(theirs);
        Assert.Equal(QemuFormatData(theirs), QemuFormatData(ours));
        Assert.Equal(Autoclear(theirs), Autoclear(ours));
        Assert.Equal(State(theirs), State(ours));

        // QEMU loads what we wrote, keeps tracking writes in the enabled bitmaps and stores them again.
        Write(ours, LaterWrites);
        Write(theirs, LaterWrites);
        AssertQemuCheckClean(ours);
        Assert.Equal(State(theirs), State(ours));
    }

    /// <summary>Does the operation with our library and returns the qemu-img bitmap runs (options…, NAME) that do the same.</summary>
    private static string[][] Apply(string operation, Qcow2Image image)
    {
        switch (operation)
        {
            case "add":
                image.AddBitmap("new");
                return [["--add", "new"]];
            case "add-512-disabled":
                image.AddBitmap("new", 512, enabled: false);
                return [["--add", "-g", "512", "--disable", "new"]];
            case "add-2G":
                image.AddBitmap("new", 2L << 30);
                return [["--add", "-g", "2G", "new"]];
            case "add-then-disable-then-enable":
                image.AddBitmap("new");
                image.DisableBitmap("new");
                image.EnableBitmap("new");
                return [["--add", "--disable", "--enable", "new"]];
            case "remove-first":
                image.RemoveBitmap("base");
                return [["--remove", "base"]];
            case "remove-all":
                image.RemoveBitmap("base");
                image.RemoveBitmap("other");
                image.RemoveBitmap("third");
                Assert.Empty(image.Bitmaps);
                Assert.False(image.AutoclearFeatures.HasFlag(Qcow2AutoclearFeatures.Bitmaps));
                return [["--remove", "base"], ["--remove", "other"], ["--remove", "third"]];
            case "clear":
                image.ClearBitmap("base");
                Assert.Empty(image.GetDirtyRanges("base"));
                return [["--clear", "base"]];
            case "enable":
                image.EnableBitmap("other");
                return [["--enable", "other"]];
            case "disable":
                image.DisableBitmap("base");
                return [["--disable", "base"]];
            case "merge-same-image":
                image.MergeBitmap("other", image, "third");
                return [["--merge", "third", "other"]];
            case "merge-into-itself":
                image.MergeBitmap("base", image, "base");
                return [["--merge", "base", "base"]];
            case "remove-in-use":
                image.RemoveBitmap("other");
                return [["--remove", "other"]];
            default:
                throw new ArgumentOutOfRangeException(nameof(operation), operation, null);
        }
    }

    /// <summary>Bitmaps we add are loaded by QEMU, record qemu-io's writes, and dump exactly the written ranges rounded to the granularity.</summary>
    [QemuFact]
    public void Bitmaps_we_add_record_qemu_io_writes()
    {
        using var dir = new TempDir();
        var path = dir.File("a.qcow2");
        Create(path, "64M");
        using (var image = Qcow2Image.Open(path, new Qcow2OpenOptions { Writable = true }))
        {
            image.AddBitmap("fine", 512);
            image.AddBitmap("default");
            image.AddBitmap("coarse", 1L << 20);
            image.AddBitmap("off", 4096, enabled: false);
            Assert.Equal(["fine", "default", "coarse", "off"], image.Bitmaps.Select(b => b.Name));
            Assert.Equal(65536, image.Bitmaps[1].Granularity);
        }
        AssertQemuCheckClean(path);
        (long, long)[] writes = [(0, 1), (1000, 3000), (5 << 20, 65536 * 3), ((64L << 20) - 4096, 4096), (20L << 20, 1 << 20)];
        Write(path, writes);
        AssertQemuCheckClean(path);
        Assert.Equal(Text(Expected(512, Size, writes)), Text(Dump(path, "fine")));
        Assert.Equal(Text(Expected(65536, Size, writes)), Text(Dump(path, "default")));
        Assert.Equal(Text(Expected(1 << 20, Size, writes)), Text(Dump(path, "coarse")));
        Assert.Empty(Dump(path, "off"));
        // A sanity check of the expectation itself: the coarse bitmap coalesces 20M..21M with nothing else.
        Assert.Contains(new Qcow2GuestRange(20L << 20, 1 << 20), Dump(path, "coarse"));
    }

    /// <summary>A virtual size that is not a multiple of the granularity: the last range ends at the virtual size.</summary>
    [QemuFact]
    public void Last_range_is_clipped_to_the_virtual_size()
    {
        using var dir = new TempDir();
        var path = dir.File("a.qcow2");
        Create(path, "1000K");
        using (var image = Qcow2Image.Open(path, new Qcow2OpenOptions { Writable = true }))
            image.AddBitmap("b", 65536);
        Write(path, (1000 * 1024 - 512, 512));
        Assert.Equal([new Qcow2GuestRange(983040, 1000 * 1024 - 983040)], Dump(path, "b"));
    }

    /// <summary>
    /// A table entry of 1 (no offset) means "every bit of this cluster is set" (spec §3.4). QEMU never writes it but reads it;
    /// we must report the whole cluster's guest range, and agree with what QEMU stores after loading it.
    /// </summary>
    [QemuFact]
    public void All_ones_table_entries_dump_the_whole_cluster()
    {
        using var dir = new TempDir();
        var path = dir.File("a.qcow2");
        // 512-byte clusters and granularity: one data cluster holds 4096 bits, i.e. 2 MiB of guest data.
        Create(path, "16M", "cluster_size=512");
        Qemu.Img("bitmap", "--add", "-g", "512", path, "b").EnsureSuccess("add");
        Write(path, (0, 1024), (3L << 20, 512), (5L << 20, 512));
        long tableOffset;
        using (var image = Qcow2Image.Open(path))
        {
            tableOffset = image.Bitmaps[0].TableOffset;
            Assert.Equal(Text(Expected(512, 16L << 20, (0, 1024), (3L << 20, 512), (5L << 20, 512))), Text(image.GetDirtyRanges("b")));
        }
        using (var file = File.Open(path, FileMode.Open, FileAccess.ReadWrite))
        {
            file.Position = tableOffset + 8; // entry 1: bits 4096..8191, guest 2M..4M
            file.Write([0, 0, 0, 0, 0, 0, 0, 1]);
            file.Position = tableOffset + 7 * 8; // entry 7, the last one: 14M..16M
            file.Write([0, 0, 0, 0, 0, 0, 0, 1]);
        }
        var expected = "0+1024 2097152+2097152 5242880+512 14680064+2097152";
        Assert.Equal(expected, Text(Dump(path, "b")));
        // QEMU loads the all-ones entries, then stores the bitmap as data clusters on close: the same bits.
        Qemu.Io("-f", "qcow2", "-c", "read -q 0 512", path).EnsureSuccess("qemu-io");
        Assert.Equal(expected, Text(Dump(path, "b")));
    }

    /// <summary>Dirty bits on both sides of a data-cluster boundary, and an all-ones cluster next to a data cluster, form one range.</summary>
    [QemuFact]
    public void Ranges_coalesce_across_table_entries()
    {
        using var dir = new TempDir();
        var path = dir.File("a.qcow2");
        Create(path, "16M", "cluster_size=512"); // with 512-byte granularity one data cluster covers 2 MiB
        Qemu.Img("bitmap", "--add", "-g", "512", path, "b").EnsureSuccess("add");
        Write(path, ((2L << 20) - 4096, 8192), ((8L << 20) - 512, 512));
        Assert.Equal("2093056+8192 8388096+512", Text(Dump(path, "b")));
        long tableOffset;
        using (var image = Qcow2Image.Open(path))
            tableOffset = image.Bitmaps[0].TableOffset;
        using (var file = File.Open(path, FileMode.Open, FileAccess.ReadWrite))
        {
            file.Position = tableOffset + 4 * 8; // entry 4 (8M..10M) all ones, right after the bit at 8M - 512
            file.Write([0, 0, 0, 0, 0, 0, 0, 1]);
        }
        Assert.Equal("2093056+8192 8388096+2097664", Text(Dump(path, "b")));
    }

    /// <summary>Merging from another image, with other granularities both ways, as <c>qemu-img bitmap --merge SRC -b FILE</c>.</summary>
    [QemuTheory]
    [InlineData("512", "64k")]
    [InlineData("1M", "4k")]
    public void Merge_across_images_matches_qemu_img(string sourceGranularity, string targetGranularity)
    {
        using var dir = new TempDir();
        var source = dir.File("source.qcow2");
        var target = dir.File("target.qcow2");
        Create(source, "64M");
        Create(target, "64M");
        Qemu.Img("bitmap", "--add", "-g", sourceGranularity, source, "src").EnsureSuccess("add");
        Qemu.Img("bitmap", "--add", "-g", targetGranularity, target, "dst").EnsureSuccess("add");
        Write(source, (100, 1), (3L << 20, 70_000), ((64L << 20) - 1, 1));
        Write(target, (10L << 20, 4096));
        var theirs = dir.File("theirs.qcow2");
        File.Copy(target, theirs);

        using (var sourceImage = Qcow2Image.Open(source))
        using (var targetImage = Qcow2Image.Open(target, new Qcow2OpenOptions { Writable = true }))
            targetImage.MergeBitmap("dst", sourceImage, "src");
        Qemu.Img("bitmap", "--merge", "src", "-b", source, "-F", "qcow2", theirs, "dst").EnsureSuccess("qemu-img merge");

        AssertQemuCheckClean(target);
        Assert.Equal(QemuBitmaps(theirs), QemuBitmaps(target));
        Assert.Equal(State(theirs), State(target));
        var gran = CommonSize(targetGranularity);
        var sourceRanges = Dump(source, "src").Select(r => (r.Start, r.Length)).ToArray();
        Assert.Equal(Text(Expected(gran, Size, [.. sourceRanges, (10L << 20, 4096)])), Text(Dump(target, "dst")));
    }

    private static long CommonSize(string text) => text[^1] switch
    {
        'k' => long.Parse(text[..^1]) << 10,
        'M' => long.Parse(text[..^1]) << 20,
        _ => long.Parse(text),
    };
}
