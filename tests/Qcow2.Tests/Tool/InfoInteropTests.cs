using System.Buffers.Binary;
using System.Text.Json;
using Qcow2.Tests.Infrastructure;

namespace Qcow2.Tests.Tool;

/// <summary>
/// Images made by the real qemu-img/qemu-io; <c>qcow2 info</c> must print what <c>qemu-img info</c> prints,
/// both as JSON (every key qemu-img prints, same value, including actual-size) and as human text (byte for byte).
/// </summary>
public sealed class InfoInteropTests
{
    /// <summary>Each scenario builds image.qcow2 (and whatever else it needs) in the given folder.</summary>
    private static readonly Dictionary<string, Action<TempDir, string>> Scenarios = new()
    {
        ["v3-default"] = (_, image) => Create(image, "1G"),
        ["v2"] = (_, image) => Create(image, "100M", "-o", "compat=0.10"),
        ["v2-4k"] = (_, image) => Create(image, "64M", "-o", "compat=0.10,cluster_size=4k"),
        ["cluster-512"] = (_, image) => Create(image, "16M", "-o", "cluster_size=512"),
        ["cluster-4k"] = (_, image) => Create(image, "64M", "-o", "cluster_size=4k"),
        ["cluster-2M"] = (_, image) => Create(image, "10G", "-o", "cluster_size=2M"),
        ["refcount-1"] = (_, image) => Create(image, "64M", "-o", "refcount_bits=1"),
        ["refcount-64"] = (_, image) => Create(image, "64M", "-o", "refcount_bits=64"),
        ["lazy-refcounts"] = (_, image) => Create(image, "64M", "-o", "lazy_refcounts=on"),
        ["zstd"] = (_, image) => Create(image, "64M", "-o", "compression_type=zstd"),
        ["extended-l2"] = (_, image) => Create(image, "64M", "-o", "extended_l2=on"),
        ["extended-l2-16k-zstd-lazy-rc64"] = (_, image) =>
            Create(image, "64M", "-o", "extended_l2=on,cluster_size=16k,compression_type=zstd,lazy_refcounts=on,refcount_bits=64"),
        ["odd-size"] = (_, image) => Create(image, "1000"),
        ["zero-size"] = (_, image) => Create(image, "0"),
        ["with-data"] = (_, image) =>
        {
            Create(image, "64M");
            Qemu.Io("-c", "write -P 0x5a 0 1M", "-c", "write -P 0x11 32M 64k", image).EnsureSuccess("qemu-io write");
        },
        ["backing-qcow2"] = (dir, image) =>
        {
            Create(dir.File("base.qcow2"), "64M");
            Create(image, "64M", "-b", "base.qcow2", "-F", "qcow2");
        },
        ["backing-raw-absolute"] = (dir, image) =>
        {
            File.WriteAllBytes(dir.File("base.raw"), new byte[1 << 20]);
            Create(image, "1M", "-b", dir.File("base.raw"), "-F", "raw");
        },
        ["backing-in-parent-dir"] = (dir, image) =>
        {
            Directory.CreateDirectory(dir.File("sub"));
            Create(dir.File("base.qcow2"), "64M");
            Create(dir.File("sub/image.qcow2"), "64M", "-b", "../base.qcow2", "-F", "qcow2");
            File.Move(dir.File("sub/image.qcow2"), image);
        },
        ["data-file"] = (dir, image) => Create(image, "1M", "-o", $"data_file={dir.File("data.raw")}"),
        ["data-file-raw"] = (dir, image) => Create(image, "1M", "-o", "data_file=data.raw,data_file_raw=on"),
        ["bitmap-one"] = (_, image) =>
        {
            Create(image, "64M");
            Qemu.Img("bitmap", "--add", image, "bm0").EnsureSuccess("qemu-img bitmap");
        },
        ["bitmaps-several"] = (_, image) =>
        {
            Create(image, "1G");
            Qemu.Img("bitmap", "--add", image, "enabled").EnsureSuccess("qemu-img bitmap");
            Qemu.Img("bitmap", "--add", "--disable", image, "disabled").EnsureSuccess("qemu-img bitmap");
            Qemu.Img("bitmap", "--add", "-g", "1M", image, "coarse").EnsureSuccess("qemu-img bitmap");
            Qemu.Img("bitmap", "--add", "-g", "512", image, "fine").EnsureSuccess("qemu-img bitmap");
        },
        ["bitmaps-in-use-after-crash"] = (_, image) =>
        {
            Create(image, "64M");
            Qemu.Img("bitmap", "--add", image, "bm0").EnsureSuccess("qemu-img bitmap");
            Qemu.Img("bitmap", "--add", "--disable", image, "bm1").EnsureSuccess("qemu-img bitmap");
            // qemu-io aborts (exit 134) without closing the image: both bitmaps stay in use.
            Qemu.Io("-c", "write 0 64k", "-c", "abort", image);
        },
        ["dirty-after-crash"] = (_, image) =>
        {
            Create(image, "64M", "-o", "lazy_refcounts=on");
            Qemu.Io("-c", "write 0 64k", "-c", "abort", image);
        },
        ["snapshots-v3"] = (_, image) =>
        {
            Create(image, "64M");
            Qemu.Io("-c", "write 0 64k", image).EnsureSuccess("qemu-io write");
            Qemu.Img("snapshot", "-c", "first", image).EnsureSuccess("qemu-img snapshot");
            Qemu.Img("snapshot", "-c", "second snapshot", image).EnsureSuccess("qemu-img snapshot");
        },
        ["snapshots-non-ascii-names"] = (_, image) =>
        {
            // qemu-img pads the TAG column by bytes (printf), so these names shift the columns after them.
            Create(image, "64M");
            Qemu.Img("snapshot", "-c", "h\u00e9llo", image).EnsureSuccess("qemu-img snapshot");
            Qemu.Img("snapshot", "-c", "\u00fcn\u00efc\u00f6d\u00e9-\u65e5\u672c", image).EnsureSuccess("qemu-img snapshot");
            Qemu.Img("snapshot", "-c", "\u00fcn\u00efc\u00f6d\u00e9-longer-than-16", image).EnsureSuccess("qemu-img snapshot");
        },
        ["snapshot-v2"] = (_, image) =>
        {
            Create(image, "64M", "-o", "compat=0.10");
            Qemu.Img("snapshot", "-c", "s1", image).EnsureSuccess("qemu-img snapshot");
        },
        ["corrupt-bit"] = (_, image) =>
        {
            Create(image, "64M");
            Patch(image, 79, b => (byte)(b | 0x02));
        },
        ["bitmaps-extension-without-autoclear-bit"] = (_, image) =>
        {
            Create(image, "64M");
            Qemu.Img("bitmap", "--add", image, "bm0").EnsureSuccess("qemu-img bitmap");
            Patch(image, 95, b => (byte)(b & ~0x01)); // as if a program without bitmap support had written the image
        },
        ["luks-xts"] = (_, image) => CreateEncrypted(image, "encrypt.format=luks,encrypt.iter-time=10"),
        ["luks-cbc-essiv"] = (_, image) => CreateEncrypted(image,
            "encrypt.format=luks,encrypt.iter-time=10,encrypt.cipher-alg=aes-128,encrypt.cipher-mode=cbc,encrypt.ivgen-alg=essiv,encrypt.ivgen-hash-alg=sha256,encrypt.hash-alg=sha512"),
        ["aes-v3"] = (_, image) => CreateEncrypted(image, "encrypt.format=aes"),
        ["aes-v2"] = (_, image) => CreateEncrypted(image, "encrypt.format=aes,compat=0.10"),
        ["unknown-header-extension"] = (_, image) =>
        {
            Create(image, "64M");
            AddUnknownExtension(image, 0x12345678, "hello"u8.ToArray());
        },
    };

    public static TheoryData<string> ScenarioNames() => new(Scenarios.Keys);

    /// <summary>
    /// Builds a scenario once (some, like LUKS, are slow to make) and copies its folder into <paramref name="dir"/>.
    /// info never writes, so each test reads its own copy, and qemu-img and qcow2 read the same file.
    /// </summary>
    private static string Image(string scenario, TempDir dir)
    {
        ImageCache.CopyInto("info:" + scenario, built => Scenarios[scenario](built, built.File("image.qcow2")), dir);
        return dir.File("image.qcow2");
    }

    [QemuTheory]
    [MemberData(nameof(ScenarioNames))]
    public void Json_matches_qemu_img(string scenario)
    {
        using var dir = new TempDir();
        var image = Image(scenario, dir);

        var expected = Qemu.InfoJson(image);
        var actual = ToolRunner.Run("info", "--output=json", "-f", "qcow2", image).EnsureSuccess().Json();

        var differences = JsonCompare.Differences(expected, actual, key => key.StartsWith("qcow2-", StringComparison.Ordinal));
        Assert.True(differences.Count == 0, $"{scenario}:\n{string.Join('\n', differences)}\nqemu-img: {expected}\nqcow2: {actual}");
    }

    [QemuTheory]
    [MemberData(nameof(ScenarioNames))]
    public void Json_text_matches_qemu_img_byte_for_byte_before_our_additions(string scenario)
    {
        using var dir = new TempDir();
        var image = Image(scenario, dir);

        var expected = Qemu.Img("info", "--output=json", image).EnsureSuccess("qemu-img info").StandardOutput;
        var actual = ToolRunner.Run("info", "--output=json", image).EnsureSuccess().StandardOutput;
        // Our keys come last, starting with "qcow2-version"; cut them off and close the object as qemu-img does.
        var cut = actual.IndexOf(",\n    \"qcow2-version\"", StringComparison.Ordinal);
        Assert.True(cut > 0, actual);
        Assert.Equal(expected, actual[..cut] + "\n}\n");
    }

    [QemuTheory]
    [MemberData(nameof(ScenarioNames))]
    public void Human_output_matches_qemu_img(string scenario)
    {
        using var dir = new TempDir();
        var image = Image(scenario, dir);

        var expected = Qemu.Img("info", "-f", "qcow2", image).EnsureSuccess("qemu-img info").StandardOutput;
        var actual = ToolRunner.Run("info", image).EnsureSuccess().StandardOutput;
        Assert.Equal(expected, actual);
    }

    [QemuFact]
    public void Our_additions_describe_header_extensions_and_features()
    {
        using var dir = new TempDir();
        var image = dir.File("image.qcow2");
        Scenarios["unknown-header-extension"](dir, image);
        Qemu.Img("bitmap", "--add", image, "bm0").EnsureSuccess("qemu-img bitmap");

        var json = ToolRunner.Run("info", "--output", "json", image).EnsureSuccess().Json();
        var extensions = json.GetProperty("qcow2-header-extensions").EnumerateArray().ToList();
        var unknown = Assert.Single(extensions, e => e.GetProperty("name").GetString() == "unknown");
        Assert.Equal("0x12345678", unknown.GetProperty("magic").GetString());
        Assert.Equal(5, unknown.GetProperty("length").GetInt32());
        Assert.Equal("68656c6c6f", unknown.GetProperty("data").GetString());
        var table = Assert.Single(extensions, e => e.GetProperty("name").GetString() == "feature-name-table");
        Assert.Equal("0x6803f857", table.GetProperty("magic").GetString());
        Assert.Contains(table.GetProperty("features").EnumerateArray(), f => f.GetProperty("name").GetString() == "lazy refcounts");
        var bitmaps = Assert.Single(extensions, e => e.GetProperty("name").GetString() == "bitmaps");
        Assert.Equal(1, bitmaps.GetProperty("bitmap-count").GetInt32());
        Assert.Equal(1UL, json.GetProperty("qcow2-features").GetProperty("autoclear").GetUInt64());
        Assert.Equal(3, json.GetProperty("qcow2-version").GetInt32());
        Assert.Equal(JsonValueKind.Array, json.GetProperty("qcow2-warnings").ValueKind);
    }

    [QemuFact]
    public void Relative_file_name_gives_qemu_img_full_backing_filename()
    {
        // qemu-img joins the backing name to the directory part of the name as typed, without normalising it.
        Assert.Equal("sub/../a.qcow2", Qcow2.Tool.CommonOptions.PathCombine("sub/b.qcow2", "../a.qcow2"));
        Assert.Equal("a.qcow2", Qcow2.Tool.CommonOptions.PathCombine("b.qcow2", "a.qcow2"));
        Assert.Equal("/abs/a.qcow2", Qcow2.Tool.CommonOptions.PathCombine("dir/b.qcow2", "/abs/a.qcow2"));
        Assert.Equal("/x/a.qcow2", Qcow2.Tool.CommonOptions.PathCombine("/x/b.qcow2", "a.qcow2"));
    }

    internal static void Create(string image, string size, params string[] options) =>
        Qemu.Img(["create", "-q", "-f", "qcow2", .. options, image, size]).EnsureSuccess("qemu-img create");

    private static void CreateEncrypted(string image, string options)
    {
        // QEMU times PBKDF2 with the thread's CPU clock; on a coarse clock it sometimes measures 0 ms and gives up with
        // "Unable to get accurate CPU usage". That is QEMU's flakiness, not ours, so try again a few times.
        for (var attempt = 1; ; attempt++)
        {
            var result = Qemu.Img("create", "-q", "-f", "qcow2", "--object", "secret,id=sec0,data=123456",
                "-o", options + ",encrypt.key-secret=sec0", image, "1M");
            if (result.ExitCode == 0 || attempt == 5 || !result.StandardError.Contains("Unable to get accurate CPU usage"))
            {
                result.EnsureSuccess("qemu-img create (encrypted)");
                return;
            }
        }
    }

    [QemuTheory]
    [InlineData("human")]
    [InlineData("json")]
    public void Image_warnings_go_to_stderr_as_one_line_each(string output)
    {
        using var dir = new TempDir();
        var image = dir.File("image.qcow2");
        Scenarios["bitmaps-extension-without-autoclear-bit"](dir, image);
        var result = ToolRunner.Run("info", "--output=" + output, image).EnsureSuccess();
        var line = Assert.Single(result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("qcow2: warning: ", line);
        Assert.Contains("bitmap", line);
        if (output == "json")
            Assert.Contains("bitmap", Assert.Single(result.Json().GetProperty("qcow2-warnings").EnumerateArray()).GetString());
    }

    private static void Patch(string image, long offset, Func<byte, byte> change)
    {
        using var file = new FileStream(image, FileMode.Open, FileAccess.ReadWrite);
        file.Position = offset;
        var value = (byte)file.ReadByte();
        file.Position = offset;
        file.WriteByte(change(value));
    }

    /// <summary>Appends an extension QEMU does not know before the end marker of a v3 image without a backing file.</summary>
    private static void AddUnknownExtension(string image, uint magic, byte[] data)
    {
        using var file = new FileStream(image, FileMode.Open, FileAccess.ReadWrite);
        var header = new byte[4096];
        file.ReadExactly(header);
        var at = (int)BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(100));
        while (BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(at)) != 0)
            at += 8 + (((int)BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(at + 4)) + 7) & ~7);
        var extension = new byte[8 + ((data.Length + 7) & ~7) + 8];
        BinaryPrimitives.WriteUInt32BigEndian(extension, magic);
        BinaryPrimitives.WriteUInt32BigEndian(extension.AsSpan(4), (uint)data.Length);
        data.CopyTo(extension, 8);
        file.Position = at;
        file.Write(extension);
    }
}
