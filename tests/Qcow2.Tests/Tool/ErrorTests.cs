using Qcow2.Tests.Infrastructure;

namespace Qcow2.Tests.Tool;

/// <summary>Every failure is exit code 1 and exactly one "qcow2: " line on stderr, never a stack trace.</summary>
public sealed class ErrorTests
{
    [Fact]
    public void Missing_file()
    {
        var line = ToolRunner.AssertSingleLineError(ToolRunner.Run("info", "/nonexistent/dir/image.qcow2"));
        Assert.Equal("qcow2: Could not open '/nonexistent/dir/image.qcow2': No such file or directory", line);
        ToolRunner.AssertSingleLineError(ToolRunner.Run("amend", "-o", "lazy_refcounts=on", "/nonexistent/image.qcow2"));
    }

    [Fact]
    public void Not_a_qcow2_image()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("text.txt"), "hello, this is not an image\n");
        var line = ToolRunner.AssertSingleLineError(ToolRunner.Run("info", "-f", "qcow2", dir.File("text.txt")));
        Assert.StartsWith($"qcow2: Could not open '{dir.File("text.txt")}': ", line);
        ToolRunner.AssertSingleLineError(ToolRunner.Run("info", dir.File("")));  // a directory
        File.WriteAllBytes(dir.File("empty"), []);
        ToolRunner.AssertSingleLineError(ToolRunner.Run("info", "--output=json", dir.File("empty")));
    }

    [Theory]
    [InlineData("create", "-o", "foo=bar", "IMAGE", "1M")]
    [InlineData("create", "-o", "cluster_size=3000", "IMAGE", "1M")]
    [InlineData("create", "-o", "cluster_size=4M", "IMAGE", "1M")]
    [InlineData("create", "-o", "refcount_bits=3", "IMAGE", "1M")]
    [InlineData("create", "-o", "compat=0.10,lazy_refcounts=on", "IMAGE", "1M")]
    [InlineData("create", "-o", "compat=2.0", "IMAGE", "1M")]
    [InlineData("create", "-o", "lazy_refcounts=maybe", "IMAGE", "1M")]
    [InlineData("create", "-o", "compression_type=lz4", "IMAGE", "1M")]
    [InlineData("create", "-o", "extended_l2=on,cluster_size=8k", "IMAGE", "1M")]
    [InlineData("create", "-o", "backing_fmt=qcow2", "IMAGE", "1M")]
    [InlineData("create", "-b", "missing.qcow2", "-F", "qcow2", "IMAGE", "1M")]
    [InlineData("create", "-b", "missing.qcow2", "IMAGE", "1M")]
    [InlineData("create", "-o", "data_file=x.raw", "IMAGE", "1M")]
    [InlineData("create", "-f", "raw", "IMAGE", "1M")]
    [InlineData("create", "IMAGE")]
    [InlineData("create", "IMAGE", "1M", "extra")]
    [InlineData("create")]
    [InlineData("info", "--output=xml", "IMAGE")]
    [InlineData("info", "--output")]
    [InlineData("info", "-Z", "IMAGE")]
    [InlineData("info", "--bogus", "IMAGE")]
    [InlineData("info")]
    [InlineData("amend", "IMAGE")]
    [InlineData("amend", "-o", "compat=1.1", "IMAGE")]
    [InlineData("amend", "-o", "nonsense=1", "IMAGE")]
    [InlineData("frobnicate")]
    [InlineData()]
    public void Bad_usage(params string[] args)
    {
        using var dir = new TempDir();
        var image = dir.File("image.qcow2");
        var result = ToolRunner.Run(args.Select(a => a == "IMAGE" ? image : a).ToArray());
        ToolRunner.AssertSingleLineError(result);
        if (args.Length > 0 && args[0] == "create")
            Assert.False(File.Exists(image), "a failed create must not leave an image behind");
    }

    [Theory]
    [InlineData("1x")]
    [InlineData("")]
    [InlineData("1e3")]
    [InlineData("1.5")]
    [InlineData("8E")]
    [InlineData("16E")]
    [InlineData("99999999999999999999")]
    [InlineData("-1")]
    public void Bad_size(string size)
    {
        using var dir = new TempDir();
        var line = ToolRunner.AssertSingleLineError(ToolRunner.Run("create", dir.File("image.qcow2"), size));
        if (size != "-1")
            Assert.StartsWith("qcow2: Invalid image size specified.", line);
        Assert.False(File.Exists(dir.File("image.qcow2")));
    }

    [QemuFact]
    public void Amend_refuses_a_corrupt_image_like_qemu_img()
    {
        using var dir = new TempDir();
        var image = dir.File("image.qcow2");
        InfoInteropTests.Create(image, "64M");
        using (var file = new FileStream(image, FileMode.Open, FileAccess.ReadWrite))
        {
            file.Position = 79;
            file.WriteByte(0x02); // incompatible feature bit 1: corrupt
        }
        Assert.NotEqual(0, Qemu.Img("amend", "-o", "lazy_refcounts=on", image).ExitCode);
        var line = ToolRunner.AssertSingleLineError(ToolRunner.Run("amend", "-o", "lazy_refcounts=on", image));
        Assert.Contains("corrupt", line);
        Assert.False(Qemu.InfoJson(image).GetProperty("format-specific").GetProperty("data").GetProperty("lazy-refcounts").GetBoolean());
    }

    [QemuFact]
    public void Amend_on_a_dirty_image_repairs_it_first_like_qemu_img()
    {
        using var dir = new TempDir();
        var image = dir.File("image.qcow2");
        InfoInteropTests.Create(image, "64M", "-o", "lazy_refcounts=on");
        Qemu.Io("-c", "write 0 64k", "-c", "abort", image);
        Assert.True(Qemu.InfoJson(image).GetProperty("dirty-flag").GetBoolean());
        Assert.NotEqual(0, Qemu.CheckJson(image).ExitCode);

        ToolRunner.Run("amend", "-o", "lazy_refcounts=off", image).EnsureSuccess();
        var info = Qemu.InfoJson(image);
        Assert.False(info.GetProperty("dirty-flag").GetBoolean());
        Assert.False(info.GetProperty("format-specific").GetProperty("data").GetProperty("lazy-refcounts").GetBoolean());
        Assert.Equal(0, Qemu.CheckJson(image).ExitCode);
    }

    [Fact]
    public void Create_into_a_missing_directory()
    {
        // Like qemu-img, the "Formatting" line is printed before the file is created.
        var line = ToolRunner.AssertSingleLineError(ToolRunner.Run("create", "/nonexistent/dir/image.qcow2", "1M"), allowStdout: true);
        Assert.Contains("/nonexistent/dir/image.qcow2", line);
    }

    [Fact]
    public void Help_succeeds_and_lists_every_verb()
    {
        var result = ToolRunner.Run("--help");
        Assert.Equal(0, result.ExitCode);
        foreach (var verb in new[] { "info", "create", "amend" })
        {
            Assert.Contains(verb, result.StandardOutput);
            var verbHelp = ToolRunner.Run(verb, "-h");
            Assert.Equal(0, verbHelp.ExitCode);
            Assert.StartsWith($"usage: qcow2 {verb}", verbHelp.StandardOutput);
        }
    }
}
