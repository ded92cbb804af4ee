using Qcow2.Tests.Infrastructure;
using static Qcow2.Tests.Format.ImageFiles;

namespace Qcow2.Tests.Format;

/// <summary>Images from <see cref="Qcow2Image.Create"/> are clean for `qemu-img check` and described as requested by `qemu-img info`.</summary>
public sealed class CreateInteropTests
{
    public static TheoryData<long, int, int, int, bool, bool, Qcow2CompressionType> Matrix => new()
    {
        { 1L << 30, 65536, 3, 16, false, false, Qcow2CompressionType.Zlib },
        { 0, 65536, 3, 16, false, false, Qcow2CompressionType.Zlib },
        { 1000, 65536, 3, 16, false, false, Qcow2CompressionType.Zlib },
        { 64L << 20, 65536, 2, 16, false, false, Qcow2CompressionType.Zlib },
        { 2L << 30, 512, 3, 64, false, false, Qcow2CompressionType.Zlib },
        { 100L << 30, 512, 3, 1, false, false, Qcow2CompressionType.Zlib },
        { 128L << 30, 512, 2, 16, false, false, Qcow2CompressionType.Zlib },
        { 8L << 40, 4096, 3, 2, false, false, Qcow2CompressionType.Zlib },
        { 1L << 40, 2 << 20, 3, 8, true, true, Qcow2CompressionType.Zstd },
        { 10L << 30, 16384, 3, 32, false, true, Qcow2CompressionType.Zlib },
        { 1L << 30, 8192, 3, 4, true, false, Qcow2CompressionType.Zstd },
    };

    [QemuTheory]
    [MemberData(nameof(Matrix))]
    public void Created_images_pass_qemu_check_and_info_agrees(long size, int clusterSize, int version, int refcountBits, bool lazy, bool extendedL2,
        Qcow2CompressionType compression)
    {
        using var dir = new TempDir();
        var path = dir.File("new.qcow2");
        var options = new Qcow2CreateOptions
        {
            ClusterSize = clusterSize, Version = version, RefcountBits = refcountBits, LazyRefcounts = lazy, ExtendedL2 = extendedL2, CompressionType = compression,
        };
        using (var image = Qcow2Image.Create(path, size, options))
        {
            Assert.True(image.IsWritable);
            Assert.Equal((size + 511) / 512 * 512, image.VirtualSize);
            Assert.Equal(refcountBits, image.RefcountBits);
        }

        var (exitCode, check, stderr) = Qemu.CheckJson(path);
        Assert.True(exitCode == 0, $"qemu-img check exited {exitCode}: {stderr} {check}");
        var info = Qemu.InfoJson(path);
        Assert.Equal((size + 511) / 512 * 512, info.GetProperty("virtual-size").GetInt64());
        var data = info.GetProperty("format-specific").GetProperty("data");
        Assert.Equal(version == 3 ? "1.1" : "0.10", data.GetProperty("compat").GetString());
        Assert.Equal(refcountBits, data.GetProperty("refcount-bits").GetInt32());
        Assert.Equal(compression.ToString().ToLowerInvariant(), data.GetProperty("compression-type").GetString());
        if (version == 3)
        {
            Assert.Equal(lazy, data.GetProperty("lazy-refcounts").GetBoolean());
            Assert.Equal(extendedL2, data.GetProperty("extended-l2").GetBoolean());
        }
        using var reopened = Qcow2Image.Open(path);
        AssertAgreesWithQemu(reopened, info);
    }

    [QemuTheory]
    [InlineData("1G")]
    [InlineData("64M", "cluster_size=512")]
    [InlineData("64M", "compat=0.10")]
    [InlineData("1G", "refcount_bits=1")]
    [InlineData("1G", "extended_l2=on", "lazy_refcounts=on")]
    [InlineData("1G", "compression_type=zstd", "cluster_size=2M")]
    [InlineData("1G", "cluster_size=4096", "refcount_bits=64")]
    public void Small_layouts_are_byte_identical_to_qemu_img_create(string size, params string[] options)
    {
        using var dir = new TempDir();
        var expected = QemuCreate(dir, "qemu.qcow2", size, options);
        var ours = dir.File("ours.qcow2");
        var opts = options.SelectMany(o => o.Split(',')).Select(o => o.Split('=')).ToDictionary(p => p[0], p => p[1]);
        Qcow2Image.Create(ours, new Qcow2OpenOptionsParser(size).Bytes, new Qcow2CreateOptions
        {
            ClusterSize = opts.TryGetValue("cluster_size", out var cs) ? (int)new Qcow2OpenOptionsParser(cs).Bytes : 65536,
            Version = opts.GetValueOrDefault("compat") == "0.10" ? 2 : 3,
            RefcountBits = opts.TryGetValue("refcount_bits", out var rb) ? int.Parse(rb) : 16,
            ExtendedL2 = opts.GetValueOrDefault("extended_l2") == "on",
            LazyRefcounts = opts.GetValueOrDefault("lazy_refcounts") == "on",
            CompressionType = opts.GetValueOrDefault("compression_type") == "zstd" ? Qcow2CompressionType.Zstd : Qcow2CompressionType.Zlib,
        }).Dispose();
        Assert.Equal(File.ReadAllBytes(expected), File.ReadAllBytes(ours));
    }

    [QemuFact]
    public void Backing_file_and_format_are_recorded_like_qemu_img_create_u()
    {
        using var dir = new TempDir();
        var expected = dir.File("qemu.qcow2");
        Qemu.Img("create", "-q", "-u", "-f", "qcow2", "-b", "base.raw", "-F", "raw", expected, "1G").EnsureSuccess("create");
        var ours = dir.File("ours.qcow2");
        using (var image = Qcow2Image.Create(ours, 1L << 30, new Qcow2CreateOptions { BackingFile = "base.raw", BackingFormat = "raw" }))
        {
            Assert.Equal("base.raw", image.BackingFileName);
            Assert.Equal("raw", image.BackingFormat);
        }
        Assert.Equal(File.ReadAllBytes(expected), File.ReadAllBytes(ours));
    }

    [Theory]
    [InlineData(1000, 3, 16, false, false, "Cluster size must be a power of two between 512 and 2048k")]
    [InlineData(256, 3, 16, false, false, "Cluster size must be a power of two")]
    [InlineData(65536, 4, 16, false, false, "Unsupported qcow2 version 4")]
    [InlineData(65536, 3, 3, false, false, "Refcount width must be a power of two and may not exceed 64 bits")]
    [InlineData(65536, 3, 128, false, false, "Refcount width must be a power of two")]
    [InlineData(65536, 2, 8, false, false, "Different refcount widths than 16 bits require compatibility level 1.1")]
    [InlineData(65536, 2, 16, true, false, "Lazy refcounts only supported with compatibility level 1.1")]
    [InlineData(65536, 2, 16, false, true, "Extended L2 entries are only supported with compatibility level 1.1")]
    [InlineData(8192, 3, 16, false, true, "Extended L2 entries are only supported with cluster sizes of at least 16384 bytes")]
    public void Invalid_create_options_are_refused_with_qemus_message(int clusterSize, int version, int refcountBits, bool lazy, bool extendedL2, string message)
    {
        using var dir = new TempDir();
        var path = dir.File("x.qcow2");
        var error = Assert.Throws<ArgumentException>(() => Qcow2Image.Create(path, 1 << 20, new Qcow2CreateOptions
        {
            ClusterSize = clusterSize, Version = version, RefcountBits = refcountBits, LazyRefcounts = lazy, ExtendedL2 = extendedL2,
        }));
        Assert.StartsWith(message, error.Message);
        Assert.Equal("options", error.ParamName);
        Assert.Contains(" (Qcow2CreateOptions.", error.Message);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void Zstd_on_v2_and_a_size_beyond_the_l1_limit_are_refused()
    {
        using var dir = new TempDir();
        Assert.StartsWith("Non-zlib compression type is only supported with compatibility level 1.1",
            Assert.Throws<ArgumentException>(() => Qcow2Image.Create(dir.File("a"), 1 << 20,
                new Qcow2CreateOptions { Version = 2, CompressionType = Qcow2CompressionType.Zstd })).Message);
        // 512-byte clusters reach at most 128 GiB with 4 Mi L1 entries.
        Assert.StartsWith("The image size is too large for file format 'qcow2'",
            Assert.Throws<ArgumentException>(() => Qcow2Image.Create(dir.File("b"), (128L << 30) + 512,
                new Qcow2CreateOptions { ClusterSize = 512 })).Message);
        Assert.StartsWith("Backing format cannot be used without backing file",
            Assert.Throws<ArgumentException>(() => Qcow2Image.Create(dir.File("c"), 1 << 20,
                new Qcow2CreateOptions { BackingFormat = "raw" })).Message);
    }

    /// <summary>Parses qemu-style sizes such as 64M or 2M.</summary>
    private readonly record struct Qcow2OpenOptionsParser(string Text)
    {
        public long Bytes => Text[^1] switch
        {
            'K' => long.Parse(Text[..^1]) << 10,
            'M' => long.Parse(Text[..^1]) << 20,
            'G' => long.Parse(Text[..^1]) << 30,
            _ => long.Parse(Text),
        };
    }
}
