using System.Text.RegularExpressions;
using Qcow2.Tests.Infrastructure;
using Qcow2.Tests.Tool;
using static Qcow2.Tests.Bitmaps.BitmapTestSupport;

namespace Qcow2.Tests.Bitmaps;

/// <summary>Refused operations: the same refusal as qemu-img, with its message, and the image left byte for byte as it was.</summary>
public sealed partial class BitmapErrorTests
{
    private static readonly string LongName = new('x', 1024);

    public static TheoryData<string, string, string[]> Refusals => new()
    {
        // case, image kind, qemu-img bitmap arguments (options…, NAME)
        { "v2", "v2", ["--add", "b"] },
        { "name-too-long", "v3", ["--add", LongName] },
        { "name-too-long-utf8", "v3", ["--add", new string('é', 512)] },
        { "duplicate", "v3", ["--add", "b1"] },
        { "granularity-not-power-of-2", "v3", ["--add", "-g", "1000", "c"] },
        { "granularity-too-small", "v3", ["--add", "-g", "256", "c"] },
        { "granularity-too-large", "v3", ["--add", "-g", "4G", "c"] },
        { "too-much-space", "4T", ["--add", "-g", "512", "c"] },
        { "duplicate-checked-before-size", "4T", ["--add", "-g", "512", "b1"] },
        { "empty-name", "v3", ["--add", ""] },
        { "remove-missing", "v3", ["--remove", "nope"] },
        { "clear-in-use", "in-use", ["--clear", "b1"] },
        { "enable-in-use", "in-use", ["--enable", "b1"] },
        { "disable-in-use", "in-use", ["--disable", "b1"] },
        { "merge-into-in-use", "in-use", ["--merge", "b2", "b1"] },
        { "merge-from-in-use", "in-use", ["--merge", "b1", "b2"] },
        { "merge-missing-source", "v3", ["--merge", "nope", "b1"] },
    };

    [QemuTheory]
    [MemberData(nameof(Refusals))]
    public void Refused_like_qemu_img_and_the_image_is_unchanged(string @case, string kind, string[] qemuArgs)
    {
        using var dir = new TempDir();
        var path = dir.File("a.qcow2");
        switch (kind)
        {
            case "v2":
                Create(path, "64M", "compat=0.10");
                break;
            case "4T":
                Create(path, "4T");
                Qemu.Img("bitmap", "--add", path, "b1").EnsureSuccess("add");
                break;
            default:
                Create(path, "64M");
                Qemu.Img("bitmap", "--add", path, "b1").EnsureSuccess("add");
                Qemu.Img("bitmap", "--add", path, "b2").EnsureSuccess("add");
                if (kind == "in-use")
                    MarkInUse(path, "b1");
                break;
        }
        var copy = dir.File("copy.qcow2");
        File.Copy(path, copy);
        var before = File.ReadAllBytes(path);

        var qemu = Qemu.Img(["bitmap", .. qemuArgs[..^1], copy, qemuArgs[^1]]);
        Assert.Equal(1, qemu.ExitCode);
        var qemuLine = qemu.StandardError.Split('\n')[0];
        var match = QemuError().Match(qemuLine);
        Assert.True(match.Success, qemuLine);
        var (operation, name, message) = (match.Groups[1].Value, match.Groups[2].Value, match.Groups[3].Value);
        // qemu-img prefixes storage refusals with "Can't make bitmap 'NAME' persistent in '#blockNNN': "; we do not name nodes.
        message = PersistentPrefix().Replace(message, "");

        // The library: an ArgumentException for a bad name or granularity (the caller's mistake), a Qcow2FormatException naming
        // the field otherwise; either way the message starts with QEMU's.
        using (var image = Qcow2Image.Open(path, new Qcow2OpenOptions { Writable = true }))
        {
            if (@case is "name-too-long" or "name-too-long-utf8" or "duplicate" or "duplicate-checked-before-size" or "empty-name"
                || @case.StartsWith("granularity-", StringComparison.Ordinal))
                Assert.StartsWith(message, Assert.Throws<ArgumentException>(() => Apply(image, qemuArgs)).Message);
            else
            {
                var error = Assert.Throws<Qcow2FormatException>(() => Apply(image, qemuArgs));
                Assert.StartsWith(message, error.Message);
                Assert.NotNull(error.Field);
            }
        }
        Assert.Equal(before, File.ReadAllBytes(path));

        // The tool: one line, qemu-img's with our program name.
        var tool = ToolRunner.Run(["bitmap", .. qemuArgs[..^1], path, qemuArgs[^1]]);
        var line = ToolRunner.AssertSingleLineError(tool);
        Assert.StartsWith($"qcow2: Operation {operation} on bitmap {name} failed: {message}", line);
        Assert.Equal(before, File.ReadAllBytes(path));
    }

    private static void Apply(Qcow2Image image, string[] args)
    {
        var name = args[^1];
        switch (args[0])
        {
            case "--add":
                long? granularity = args.Length > 2 ? args[2] switch { "1000" => 1000, "256" => 256, "4G" => 4L << 30, "512" => 512, var g => throw new ArgumentException(g) } : null;
                image.AddBitmap(name, granularity);
                break;
            case "--remove":
                image.RemoveBitmap(name);
                break;
            case "--clear":
                image.ClearBitmap(name);
                break;
            case "--enable":
                image.EnableBitmap(name);
                break;
            case "--disable":
                image.DisableBitmap(name);
                break;
            case "--merge":
                image.MergeBitmap(name, image, args[1]);
                break;
        }
    }

    [QemuFact]
    public void Merge_of_different_sizes_is_refused_like_qemu_img()
    {
        using var dir = new TempDir();
        var source = dir.File("s.qcow2");
        var target = dir.File("t.qcow2");
        Create(source, "32M");
        Create(target, "64M");
        Qemu.Img("bitmap", "--add", source, "s").EnsureSuccess("add");
        Qemu.Img("bitmap", "--add", target, "t").EnsureSuccess("add");
        var qemu = Qemu.Img("bitmap", "--merge", "s", "-b", source, target, "t");
        Assert.Equal(1, qemu.ExitCode);
        Assert.Contains("Bitmaps are of different sizes (destination size is 67108864, source size is 33554432) and can't be merged", qemu.StandardError);
        var tool = ToolRunner.Run("bitmap", "--merge", "s", "-b", source, target, "t");
        Assert.Equal("qcow2: Operation merge on bitmap t failed: Bitmaps are of different sizes (destination size is 67108864, source size is 33554432) and can't be merged",
            ToolRunner.AssertSingleLineError(tool));
    }

    [QemuFact]
    public void Every_change_on_a_read_only_image_throws_InvalidOperationException()
    {
        using var dir = new TempDir();
        var path = dir.File("a.qcow2");
        Create(path, "64M");
        Qemu.Img("bitmap", "--add", path, "b").EnsureSuccess("add");
        var before = File.ReadAllBytes(path);
        using var image = Qcow2Image.Open(path);
        Assert.Throws<InvalidOperationException>(() => image.AddBitmap("c"));
        Assert.Throws<InvalidOperationException>(() => image.RemoveBitmap("b"));
        Assert.Throws<InvalidOperationException>(() => image.ClearBitmap("b"));
        Assert.Throws<InvalidOperationException>(() => image.EnableBitmap("b"));
        Assert.Throws<InvalidOperationException>(() => image.DisableBitmap("b"));
        Assert.Throws<InvalidOperationException>(() => image.MergeBitmap("b", image, "b"));
        Assert.Empty(image.GetDirtyRanges("b")); // reading is fine
        Assert.Equal(before, File.ReadAllBytes(path));
    }

    [GeneratedRegex("^qemu-img: Operation (\\w+) on bitmap (.*?) failed: (.*)$")]
    private static partial Regex QemuError();

    [GeneratedRegex("^Can't make bitmap '.*' persistent in '[^']*': ")]
    private static partial Regex PersistentPrefix();
}
