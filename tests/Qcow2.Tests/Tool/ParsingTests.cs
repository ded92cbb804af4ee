using Qcow2.Tool;

namespace Qcow2.Tests.Tool;

/// <summary>The option parser and value syntaxes, checked against values observed from qemu-img 7.2.</summary>
public sealed class ParsingTests
{
    [Theory]
    [InlineData("0", 0L)]
    [InlineData("1048576", 1048576L)]
    [InlineData("1b", 1L)]
    [InlineData("1B", 1L)]
    [InlineData("1k", 1024L)]
    [InlineData("1K", 1024L)]
    [InlineData("1.5k", 1536L)]
    [InlineData("64M", 64L << 20)]
    [InlineData("1.5G", 1610612736L)]
    [InlineData("1T", 1L << 40)]
    [InlineData("2P", 2L << 50)]
    [InlineData("7E", 7L << 60)]
    [InlineData("0x10", 16L)]
    public void Sizes(string text, long expected) => Assert.Equal(expected, CommonOptions.TryParseSize(text));

    [Theory]
    [InlineData("")]
    [InlineData("1x")]
    [InlineData("1e3")]
    [InlineData("1.5")]
    [InlineData("k")]
    [InlineData("1..5k")]
    [InlineData("-1")]
    public void Invalid_sizes(string text) => Assert.Null(CommonOptions.TryParseSize(text));

    [Theory]
    [InlineData("8E")]
    [InlineData("16E")]
    [InlineData("99999999999999999999")]
    public void Sizes_out_of_range(string text) => Assert.Throws<OverflowException>(() => CommonOptions.TryParseSize(text));

    [Theory]
    [InlineData(0L, "0 B")]
    [InlineData(200704L, "196 KiB")]
    [InlineData(225280L, "220 KiB")]
    [InlineData(1048576L, "1 MiB")]
    [InlineData(104857600L, "100 MiB")]
    [InlineData(1073741824L, "1 GiB")]
    [InlineData(1610612736L, "1.5 GiB")]
    [InlineData(1000L, "0.977 KiB")]
    [InlineData(999L, "999 B")]
    [InlineData(10737418240L, "10 GiB")]
    public void Size_to_string_like_qemu(long value, string expected) => Assert.Equal(expected, CommonOptions.SizeToString(value));

    [Fact]
    public void Option_lists()
    {
        var options = CommonOptions.ParseOptionList(["cluster_size=4k,lazy_refcounts", "backing_file=a,,b.qcow2", "cluster_size=512"]);
        Assert.Equal(
            [new("cluster_size", "512"), new("lazy_refcounts", "on"), new("backing_file", "a,b.qcow2")],
            options);
    }

    [Fact]
    public void Getopt_style_arguments()
    {
        OptionSpec[] specs = [CommonOptions.Format, CommonOptions.Output, CommonOptions.OptionList, CommonOptions.Quiet, CommonOptions.ForceShare];
        var parsed = ArgParser.Parse(["-fqcow2", "FILE", "--output", "json", "-qU", "-o", "a=1", "-ob=2", "--", "-weird"], specs);
        Assert.Equal("qcow2", parsed.Last("format"));
        Assert.Equal("json", parsed.Last("output"));
        Assert.True(parsed.Has("quiet"));
        Assert.True(parsed.Has("force-share"));
        Assert.Equal(["a=1", "b=2"], parsed.All("options"));
        Assert.Equal(["FILE", "-weird"], parsed.Positionals);
        Assert.Equal("human", ArgParser.Parse(["--output=human"], specs).Last("output"));
        Assert.Throws<UsageException>(() => ArgParser.Parse(["--output"], specs));
        Assert.Throws<UsageException>(() => ArgParser.Parse(["-x"], specs));
    }
}
