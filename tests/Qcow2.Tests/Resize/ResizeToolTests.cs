using Qcow2.Tests.Infrastructure;
using Qcow2.Tests.Tool;

namespace Qcow2.Tests.Resize;

/// <summary>The <c>qcow2 resize</c> command line: help, and one-line errors for bad usage.</summary>
public sealed class ResizeToolTests
{
    [Fact]
    public void Help_lists_the_verb_and_its_options()
    {
        Assert.Contains("resize", ToolRunner.Run("--help").EnsureSuccess().StandardOutput, StringComparison.Ordinal);
        foreach (var help in new[] { "-h", "--help" })
        {
            var usage = ToolRunner.Run("resize", help).EnsureSuccess().StandardOutput;
            Assert.StartsWith("usage: qcow2 resize", usage, StringComparison.Ordinal);
            Assert.Contains("--shrink", usage, StringComparison.Ordinal);
            Assert.Contains("--preallocation", usage, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("Expecting image file name and size", "resize", "IMAGE")]
    [InlineData("Expecting image file name and size", "resize", "IMAGE", "1M", "2M")]
    [InlineData("Invalid preallocation mode 'sparse'", "resize", "--preallocation=sparse", "IMAGE", "+1M")]
    [InlineData("Preallocation mode 'falloc' is not supported", "resize", "--preallocation=falloc", "IMAGE", "+1M")]
    [InlineData("Preallocation mode 'full' is not supported", "resize", "--preallocation=full", "IMAGE", "+1M")]
    [InlineData("Unknown or unsupported file format: 'raw'", "resize", "-f", "raw", "IMAGE", "+1M")]
    [InlineData("Parameter 'size' expects a non-negative number below 2^64", "resize", "IMAGE", "lots")]
    [InlineData("Parameter 'size' expects a non-negative number below 2^64", "resize", "IMAGE", "99999999999999999999")]
    [InlineData("unrecognized option '--grow'", "resize", "--grow", "IMAGE", "+1M")]
    [InlineData("Could not open", "resize", "MISSING", "+1M")]
    public void Bad_usage_is_one_line(string message, params string[] args)
    {
        using var dir = new TempDir();
        var image = dir.File("image.qcow2");
        using (Qcow2Image.Create(image, 1024 * 1024)) { }
        var before = File.ReadAllBytes(image);
        var result = ToolRunner.Run(args.Select(a => a == "IMAGE" ? image : a == "MISSING" ? dir.File("missing.qcow2") : a).ToArray());
        var line = ToolRunner.AssertSingleLineError(result);
        Assert.Contains(message, line, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(image));
    }

    [Fact]
    public void Quiet_prints_nothing_and_relative_sizes_add_and_subtract()
    {
        using var dir = new TempDir();
        var image = dir.File("image.qcow2");
        using (Qcow2Image.Create(image, 1024 * 1024)) { }
        Assert.Equal("", ToolRunner.Run("resize", "-q", image, "+1M").EnsureSuccess().StandardOutput);
        Assert.Equal("Image resized.\n", ToolRunner.Run("resize", "--shrink", image, "-512K").EnsureSuccess().StandardOutput);
        Assert.Equal("Image resized.\n", ToolRunner.Run("resize", image, "1.5M").EnsureSuccess().StandardOutput); // same size: nothing to do
        using var opened = Qcow2Image.Open(image);
        Assert.Equal(1536 * 1024, opened.VirtualSize);
    }
}
