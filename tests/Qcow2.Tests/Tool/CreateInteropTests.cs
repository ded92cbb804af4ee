using System.Text.Json;
using Qcow2.Tests.Infrastructure;

namespace Qcow2.Tests.Tool;

/// <summary>
/// <c>qcow2 create</c> and <c>qemu-img create</c> with the same arguments: same "Formatting" line, our image passes
/// <c>qemu-img check</c> (also after qemu-io wrote to it), and <c>qemu-img info</c> describes both images the same way.
/// </summary>
public sealed class CreateInteropTests
{
    public static TheoryData<string, string> Matrix() => new()
    {
        { "", "64M" },
        { "compat=0.10", "64M" },
        { "compat=v2,cluster_size=4k", "64M" },
        { "compat=v3", "1G" },
        { "cluster_size=512", "16M" },
        { "cluster_size=4k", "64M" },
        { "cluster_size=2M", "10G" },
        { "refcount_bits=1", "64M" },
        { "refcount_bits=64", "64M" },
        { "lazy_refcounts=on", "64M" },
        { "compression_type=zstd", "64M" },
        { "extended_l2=on", "64M" },
        { "extended_l2=on,cluster_size=16k,refcount_bits=8", "64M" },
        { "backing_file=base.qcow2,backing_fmt=qcow2", "64M" },
        { "backing_file=base.qcow2,backing_fmt=qcow2,lazy_refcounts=on", "" },
        { "", "1.5G" },
        { "", "1000" },
        { "", "0" },
    };

    [QemuTheory]
    [MemberData(nameof(Matrix))]
    public void Create_matches_qemu_img(string options, string size)
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.File("qemu"));
        Directory.CreateDirectory(dir.File("ours"));
        foreach (var side in new[] { "qemu", "ours" })
            InfoInteropTests.Create(dir.File($"{side}/base.qcow2"), "64M");
        var qemuImage = dir.File("qemu/image.qcow2");
        var ourImage = dir.File("ours/image.qcow2");

        string[] Args(string image) => [.. options.Length > 0 ? new[] { "-o", options } : [], image, .. size.Length > 0 ? new[] { size } : []];
        var qemu = Qemu.Img(["create", "-f", "qcow2", .. Args(qemuImage)]).EnsureSuccess("qemu-img create");
        var ours = ToolRunner.Run(["create", "-f", "qcow2", .. Args(ourImage)]).EnsureSuccess();
        Assert.Equal(qemu.StandardOutput.Replace(dir.File("qemu"), dir.File("ours")), ours.StandardOutput);
        Assert.Equal("", ours.StandardError);

        var (checkExit, _, checkError) = Qemu.CheckJson(ourImage);
        Assert.True(checkExit == 0, $"qemu-img check exited {checkExit}: {checkError}");

        var expected = Qemu.InfoJson(qemuImage);
        var actual = Qemu.InfoJson(ourImage);
        var differences = JsonCompare.Differences(Normalise(expected, dir.File("qemu")), Normalise(actual, dir.File("ours")), _ => false,
            "filename", "actual-size");
        Assert.True(differences.Count == 0, string.Join('\n', differences));

        // The image is usable: QEMU can write to it and check still passes.
        var virtualSize = actual.GetProperty("virtual-size").GetInt64();
        if (virtualSize >= 128 * 1024)
        {
            Qemu.Io("-c", "write -P 0xab 0 128k", "-c", "read -P 0xab 0 128k", ourImage).EnsureSuccess("qemu-io");
            var (exitAfterWrite, _, errorAfterWrite) = Qemu.CheckJson(ourImage);
            Assert.True(exitAfterWrite == 0, $"qemu-img check after a write exited {exitAfterWrite}: {errorAfterWrite}");
        }
    }

    [QemuFact]
    public void Create_takes_the_size_of_a_raw_backing_file_and_quiet_prints_nothing()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("base.raw"), new byte[3 << 20]);
        var result = ToolRunner.Run("create", "-q", "-b", "base.raw", "-F", "raw", dir.File("image.qcow2")).EnsureSuccess();
        Assert.Equal("", result.StandardOutput);
        var info = Qemu.InfoJson(dir.File("image.qcow2"));
        Assert.Equal(3L << 20, info.GetProperty("virtual-size").GetInt64());
        Assert.Equal("base.raw", info.GetProperty("backing-filename").GetString());
        Assert.Equal("raw", info.GetProperty("backing-filename-format").GetString());
    }

    [QemuFact]
    public void Amend_lazy_refcounts_on_and_off_is_seen_by_qemu_img()
    {
        using var dir = new TempDir();
        var image = dir.File("image.qcow2");
        InfoInteropTests.Create(image, "64M");
        Qemu.Img("bitmap", "--add", image, "keep-me").EnsureSuccess("qemu-img bitmap");
        Assert.False(LazyRefcounts(image));

        var on = ToolRunner.Run("amend", "-f", "qcow2", "-o", "lazy_refcounts=on", image);
        Assert.Equal(0, on.ExitCode);
        Assert.Equal("", on.StandardError);
        Assert.True(LazyRefcounts(image));
        Assert.Equal(0, Qemu.CheckJson(image).ExitCode);
        var bitmaps = Qemu.InfoJson(image).GetProperty("format-specific").GetProperty("data").GetProperty("bitmaps");
        Assert.Equal("keep-me", Assert.Single(bitmaps.EnumerateArray()).GetProperty("name").GetString());

        ToolRunner.Run("amend", "-o", "lazy_refcounts=off", image).EnsureSuccess();
        Assert.False(LazyRefcounts(image));
        Assert.Equal(0, Qemu.CheckJson(image).ExitCode);
    }

    [QemuFact]
    public void Amend_lazy_refcounts_on_a_v2_image_fails_like_qemu_img()
    {
        using var dir = new TempDir();
        var image = dir.File("image.qcow2");
        InfoInteropTests.Create(image, "64M", "-o", "compat=0.10");
        var line = ToolRunner.AssertSingleLineError(ToolRunner.Run("amend", "-o", "lazy_refcounts=on", image));
        Assert.Contains("compatibility level 1.1", line);
        Assert.Equal("0.10", Qemu.InfoJson(image).GetProperty("format-specific").GetProperty("data").GetProperty("compat").GetString());
    }

    private static bool LazyRefcounts(string image) =>
        Qemu.InfoJson(image).GetProperty("format-specific").GetProperty("data").GetProperty("lazy-refcounts").GetBoolean();

    /// <summary>Makes paths that contain the side's folder comparable.</summary>
    private static JsonElement Normalise(JsonElement info, string folder) =>
        JsonDocument.Parse(info.GetRawText().Replace(JsonEncodedText.Encode(folder).ToString(), "DIR")).RootElement.Clone();
}
