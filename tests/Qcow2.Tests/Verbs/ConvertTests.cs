using Qcow2.Tests.Infrastructure;
using static Qcow2.Tests.GuestData.GuestImages;

namespace Qcow2.Tests.Verbs;

/// <summary>
/// <c>qcow2 convert</c> against <c>qemu-img convert</c>: qemu-img compare says identical, qemu-img check is clean, and the
/// target is as sparse as qemu-img's (allocated size within 1%).
/// </summary>
[Trait("Category", "Interop")]
public sealed class ConvertTests
{
    [QemuTheory]
    [InlineData("qcow2", "")]
    [InlineData("qcow2", "cluster_size=4k,extended_l2=off")]
    [InlineData("qcow2", "cluster_size=128k,extended_l2=on")]
    [InlineData("raw", "")]
    public void Raw_source_to(string format, string options)
    {
        using var dir = new TempDir();
        var source = dir.File("src.raw");
        WriteMixedRaw(source, 12 << 20, seed: 5);
        AssertLikeQemu(dir, ["-f", "raw", "-O", format, .. options.Length > 0 ? new[] { "-o", options } : []], source, format);
    }

    [QemuFact]
    public void Qcow2_sources_of_every_kind()
    {
        using var dir = new TempDir();
        var raw = dir.File("src.raw");
        WriteMixedRaw(raw, 6 << 20, seed: 7);
        var compressed = dir.File("c.qcow2");
        Img("convert", "-q", "-c", "-f", "raw", "-O", "qcow2", raw, compressed);
        Io(compressed, "write -P 0x66 1M 100k", "write -z 3M 1M");
        AssertLikeQemu(dir, ["-O", "qcow2"], compressed, "qcow2");
        AssertLikeQemu(dir, ["-O", "raw"], compressed, "raw");

        var basePath = dir.File("base.qcow2");
        Img("create", "-q", "-f", "qcow2", basePath, "4M");
        Io(basePath, "write -P 1 0 1M", "write -z 2M 64k");
        var top = dir.File("top.qcow2");
        Img("create", "-q", "-f", "qcow2", "-o", "extended_l2=on", "-b", basePath, "-F", "qcow2", top, "6M");
        Io(top, "write -P 2 512k 8k", "write -z 100k 4k", "write -P 3 5M 64k");
        AssertLikeQemu(dir, ["-O", "qcow2"], top, "qcow2");
    }

    [QemuFact]
    public void With_a_new_backing_file_only_differences_are_written()
    {
        using var dir = new TempDir();
        var basePath = dir.File("base.qcow2");
        Img("create", "-q", "-f", "qcow2", basePath, "4M");
        Io(basePath, "write -P 1 0 2M");
        var top = dir.File("top.qcow2");
        Img("create", "-q", "-f", "qcow2", "-b", basePath, "-F", "qcow2", top);
        Io(top, "write -P 2 512k 128k", "write -z 1M 64k", "write -P 3 3M 64k");
        var ours = dir.File("ours.qcow2");
        var theirs = dir.File("theirs.qcow2");
        ToolRunner.Run("convert", "-O", "qcow2", "-B", basePath, "-F", "qcow2", top, ours).EnsureSuccess();
        Img("convert", "-O", "qcow2", "-B", basePath, "-F", "qcow2", top, theirs);
        Img("compare", top, ours);
        Assert.Equal(Qemu.Img("map", "--output=json", theirs).StandardOutput, Qemu.Img("map", "--output=json", ours).StandardOutput);
    }

    [QemuFact]
    public void Existing_target_and_bitmaps()
    {
        using var dir = new TempDir();
        var source = dir.File("s.qcow2");
        Img("create", "-q", "-f", "qcow2", source, "4M");
        Img("bitmap", "--add", source, "b0");
        Img("bitmap", "--add", "-g", "128k", source, "b1");
        Io(source, "write -P 5 64k 64k", "write -P 6 2M 4k");
        Img("bitmap", "--disable", source, "b1");
        var target = dir.File("t.qcow2");
        ToolRunner.Run("convert", "-O", "qcow2", "--bitmaps", source, target).EnsureSuccess();
        Img("compare", source, target);
        AssertClean(target);
        var theirs = dir.File("theirs.qcow2");
        Img("convert", "-O", "qcow2", "--bitmaps", source, theirs);
        var expected = Qemu.InfoJson(theirs).GetProperty("format-specific").GetProperty("data").GetProperty("bitmaps").GetRawText();
        Assert.Equal(expected, Qemu.InfoJson(target).GetProperty("format-specific").GetProperty("data").GetProperty("bitmaps").GetRawText());
        using (var ours = Qcow2Image.Open(target))
        using (var original = Qcow2Image.Open(source))
            foreach (var name in new[] { "b0", "b1" })
                Assert.Equal(original.GetDirtyRanges(name), ours.GetDirtyRanges(name));

        // -n: an existing target with other data is overwritten, zeros included.
        var existing = dir.File("e.qcow2");
        Img("create", "-q", "-f", "qcow2", existing, "4M");
        Io(existing, "write -P 9 0 4M");
        ToolRunner.Run("convert", "-n", "-O", "qcow2", source, existing).EnsureSuccess();
        Img("compare", source, existing);
        AssertClean(existing);
    }

    /// <summary>
    /// <c>-c</c>: the same zlib or zstd streams as QEMU's (so the same allocated size), incompressible clusters stored plain,
    /// and QEMU reads every cluster back.
    /// </summary>
    [QemuTheory]
    [InlineData("")]
    [InlineData("compression_type=zstd")]
    [InlineData("cluster_size=4k")]
    [InlineData("cluster_size=128k,extended_l2=on,compression_type=zstd")]
    [InlineData("refcount_bits=1")]
    public void Compressed(string options)
    {
        using var dir = new TempDir();
        var source = dir.File("src.raw");
        WriteMixedRaw(source, (12 << 20) + 4096, seed: 9);
        string[] optionArgs = options.Length > 0 ? ["-o", options] : [];
        AssertLikeQemu(dir, ["-c", "-f", "raw", "-O", "qcow2", .. optionArgs], source, "qcow2");
        var ours = dir.File("ours.qcow2");
        var check = Qemu.CheckJson(ours).Json!.Value;
        Assert.True(check.GetProperty("compressed-clusters").GetInt64() > 0);
        Assert.True(check.GetProperty("compressed-clusters").GetInt64() < check.GetProperty("allocated-clusters").GetInt64(), "random data stays uncompressed");
        var read = Qemu.Io("-c", $"read 0 {(12 << 20) + 4096}", ours).EnsureSuccess("qemu-io read");
        Assert.DoesNotContain("error", read.StandardOutput + read.StandardError, StringComparison.OrdinalIgnoreCase);
        Assert.Equal("Images are identical.\n", Qemu.Img("compare", "-f", "raw", source, ours).StandardOutput);
    }

    /// <summary>A crash after any write of a compressed copy leaves a consistent image (at worst leaked clusters).</summary>
    [QemuFact]
    public void A_crash_during_a_compressed_copy_leaves_a_consistent_image()
    {
        using var dir = new TempDir();
        var source = dir.File("src.raw");
        WriteMixedRaw(source, 1 << 19, seed: 3);
        var data = File.ReadAllBytes(source);
        var empty = dir.File("empty.qcow2");
        Img("create", "-q", "-f", "qcow2", "-o", "cluster_size=4k", empty, "512k");
        var writes = CrashPoints.Run(dir.File("crashed.qcow2"), File.ReadAllBytes(empty), image =>
        {
            using var raw = new MemoryStream(data, writable: false);
            Qcow2Converter.Copy(Qcow2VirtualDisk.FromRaw(raw), Qcow2VirtualDisk.FromImage(image), new Qcow2CopyOptions { Compress = true });
            return true;
        }, (path, n) =>
        {
            var check = Qemu.Img("check", "-f", "qcow2", path);
            Assert.True(check.ExitCode is 0 or 3, $"crash after {n} writes: {check.StandardOutput}{check.StandardError}");
        });
        Assert.InRange(writes, 20, 5000);
    }

    [QemuFact]
    public void Compressed_from_a_chain_onto_a_new_backing_file()
    {
        using var dir = new TempDir();
        var basePath = dir.File("base.qcow2");
        Img("create", "-q", "-f", "qcow2", basePath, "4M");
        Io(basePath, "write -P 1 0 2M");
        var top = dir.File("top.qcow2");
        Img("create", "-q", "-f", "qcow2", "-b", basePath, "-F", "qcow2", top);
        Io(top, "write -P 2 512k 128k", "write -z 1M 64k", "write -P 3 3M 64k");
        var ours = dir.File("ours.qcow2");
        ToolRunner.Run("convert", "-c", "-O", "qcow2", "-B", basePath, "-F", "qcow2", top, ours).EnsureSuccess();
        Img("compare", top, ours);
        AssertClean(ours);
        VerbParity.AssertSameAsQemu("convert", "-c", "-O", "raw", top, dir.File("x.raw"));
    }

    /// <summary>A sparse raw source: its holes are reported as zeros (not read), and the target stays as sparse as qemu-img's.</summary>
    [QemuFact]
    public void Sparse_raw_source_stays_sparse()
    {
        using var dir = new TempDir();
        var source = dir.File("sparse.raw");
        using (var file = new FileStream(source, FileMode.Create, FileAccess.Write))
        {
            file.SetLength(256 << 20);
            foreach (var at in new long[] { 1 << 20, 100 << 20, 255 << 20 })
            {
                file.Position = at;
                file.Write(Enumerable.Range(0, 1 << 20).Select(i => (byte)(i * 7 + 1)).ToArray());
            }
        }
        using (var stream = new FileStream(source, FileMode.Open, FileAccess.Read))
        {
            var extents = Qcow2VirtualDisk.FromRaw(stream).GetAllocation(0, stream.Length).ToList();
            Assert.Equal(256L << 20, extents.Sum(e => e.Length));
            Assert.Equal(3L << 20, extents.Where(e => e.Kind == Qcow2ExtentKind.Data).Sum(e => e.Length));
            Assert.Contains(extents, e => e.Kind == Qcow2ExtentKind.Zero && e.Start <= 50 << 20 && e.End >= 60 << 20);
        }
        AssertLikeQemu(dir, ["-f", "raw", "-O", "qcow2"], source, "qcow2");
        AssertLikeQemu(dir, ["-f", "raw", "-O", "raw"], source, "raw");
    }

    [QemuFact]
    public void Target_errors_are_prefixed_as_qemu_img_s()
    {
        using var dir = new TempDir();
        var source = dir.File("s.raw");
        File.WriteAllBytes(source, new byte[1 << 20]);
        VerbParity.AssertSameAsQemu("convert", "-O", "qcow2", source, dir.File("missing/t.qcow2"));
        VerbParity.AssertSameAsQemu("convert", "-O", "raw", source, dir.File("missing/t.raw"));
        var error = ToolRunner.AssertSingleLineError(ToolRunner.Run("convert", "-O", "qcow2", "-o", "cluster_size=3k", source, dir.File("t.qcow2")));
        Assert.StartsWith($"qcow2: {dir.File("t.qcow2")}: error while converting qcow2: Cluster size must be a power of two between 512 and 2048k", error, StringComparison.Ordinal);
    }

    [QemuFact]
    public void Write_errors_name_the_byte_and_exit_as_qemu_img_s()
    {
        using var dir = new TempDir();
        var source = dir.File("s.raw");
        var data = new byte[4 << 20];
        new Random(3).NextBytes(data);
        File.WriteAllBytes(source, data);
        foreach (var (format, existing) in new[] { ("raw", true), ("qcow2", false), ("raw", false) })
        {
            var (ours, theirs) = (dir.File("ours." + format), dir.File("theirs." + format));
            File.Delete(ours);
            File.Delete(theirs);
            if (existing)
            {
                Img("create", "-q", "-f", format, ours, "4M");
                Img("create", "-q", "-f", format, theirs, "4M");
            }
            string[] options = ["convert", .. existing ? new[] { "-n" } : [], "-f", "raw", "-O", format, source];
            var expected = WithFileSizeLimit(["qemu-img", .. options, theirs]);
            var actual = WithFileSizeLimit(["dotnet", "exec", typeof(Qcow2.Tool.Cli).Assembly.Location, .. options, ours]);
            Assert.Equal(1, expected.ExitCode);
            Assert.Equal(expected.ExitCode, actual.ExitCode);
            Assert.Equal(expected.StandardError.Replace("qemu-img: ", "qcow2: ", StringComparison.Ordinal).Replace(theirs, ours, StringComparison.Ordinal),
                actual.StandardError);
            if (format == "qcow2")
                Assert.Contains(Qemu.CheckJson(ours).ExitCode, new[] { 0, 3 }); // leaked clusters at worst
        }
    }

    [QemuFact]
    public void Cache_modes_are_qemu_img_s()
    {
        using var dir = new TempDir();
        var source = dir.File("s.raw");
        WriteMixedRaw(source, 2 << 20, seed: 11);
        foreach (var mode in new[] { "unsafe", "writeback", "writethrough", "none", "off", "directsync" })
            AssertLikeQemu(dir, ["-t", mode, "-f", "raw", "-O", "qcow2"], source, "qcow2");
        VerbParity.AssertSameAsQemu("convert", "-t", "bogus", "-f", "raw", "-O", "qcow2", source, dir.File("t.qcow2"));
    }

    /// <summary>
    /// Runs a program whose files may grow to 2 MiB (RLIMIT_FSIZE), with SIGXFSZ ignored so that a longer write fails with
    /// EFBIG instead of killing it (and without .NET's W^X double mapping, whose memory file would hit the limit too).
    /// </summary>
    private static ProcessResult WithFileSizeLimit(string[] command) =>
        Qemu.Run("bash", ["-c", "trap '' XFSZ; ulimit -f 2048; export DOTNET_EnableWriteXorExecute=0; exec \"$@\"", "bash", .. command]);

    private static void AssertLikeQemu(TempDir dir, string[] options, string source, string format)
    {
        var ours = dir.File("ours." + format);
        var theirs = dir.File("theirs." + format);
        File.Delete(ours);
        File.Delete(theirs);
        ToolRunner.Run(["convert", .. options, source, ours]).EnsureSuccess();
        Img(["convert", .. options, source, theirs]);
        Assert.Equal("Images are identical.\n", Qemu.Img("compare", "-F", format, source, ours).EnsureSuccess("qemu-img compare").StandardOutput);
        if (format == "qcow2")
            AssertClean(ours);
        var (ourSize, theirSize) = (Allocated(ours), Allocated(theirs));
        Assert.True(Math.Abs(ourSize - theirSize) <= theirSize / 100, $"allocated {ourSize} bytes, qemu-img {theirSize}");
    }

    private static void AssertClean(string image) =>
        Assert.Equal(0, Qemu.CheckJson(image).ExitCode);

    private static long Allocated(string path) =>
        long.Parse(Qemu.Run("du", "-B1", path).EnsureSuccess("du").StandardOutput.Split('\t')[0], System.Globalization.CultureInfo.InvariantCulture);
}
