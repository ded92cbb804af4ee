using Qcow2.Tests.Infrastructure;
using static Qcow2.Tests.GuestData.GuestImages;
using static Qcow2.Tests.Verbs.VerbParity;

namespace Qcow2.Tests.Verbs;

/// <summary><c>qcow2 compare</c>: qemu-img's messages and exit codes (0 identical, 1 different, 2 error), also for different sizes.</summary>
[Trait("Category", "Interop")]
public sealed class CompareTests
{
    [QemuFact]
    public void Identical_different_and_strict_through_a_backing_chain()
    {
        using var dir = new TempDir();
        var (basePath, top) = (dir.File("base.qcow2"), dir.File("top.qcow2"));
        Img("create", "-q", "-f", "qcow2", basePath, "4M");
        Io(basePath, "write -P 1 0 1M", "write -z 2M 64k");
        Img("create", "-q", "-f", "qcow2", "-b", basePath, "-F", "qcow2", top, "6M");
        Io(top, "write -P 2 512k 128k", "write -c 3M 64k");
        var flat = dir.File("flat.qcow2");
        Img("convert", "-O", "qcow2", top, flat);
        var raw = dir.File("flat.raw");
        Img("convert", "-O", "raw", top, raw);
        AssertSameAsQemu("compare", top, flat);
        AssertSameAsQemu("compare", "-s", top, flat);
        AssertSameAsQemu("compare", "-f", "qcow2", "-F", "raw", top, raw);
        AssertSameAsQemu("compare", raw, top);
        // qemu-img convert leaves the raw copy sparse: its holes are zeros to compare -s, its data is data.
        AssertSameAsQemu("compare", "-s", "-f", "qcow2", "-F", "raw", top, raw);
        AssertSameAsQemu("compare", "-s", "-f", "qcow2", "-F", "raw", flat, raw);
        AssertSameAsQemu("compare", basePath, top);
        AssertSameAsQemu("compare", "-q", basePath, top);
        Io(flat, "write -P 9 5000k 1");
        AssertSameAsQemu("compare", top, flat);
    }

    /// <summary>More than one planning batch (1 GiB of chunks to compare): the difference after the first batch is still found.</summary>
    [QemuFact]
    public void A_difference_past_the_first_gigabyte_of_data()
    {
        using var dir = new TempDir();
        var (a, b) = (dir.File("a.qcow2"), dir.File("b.qcow2"));
        // Metadata preallocation: every cluster is allocated, so every chunk is planned and read (the file stays sparse).
        Img("create", "-q", "-f", "qcow2", "-o", "preallocation=metadata", a, "1536M");
        File.Copy(a, b);
        AssertSameAsQemu("compare", a, b);
        Io(b, "write -P 7 1300M 512");
        AssertSameAsQemu("compare", a, b);
    }

    [QemuFact]
    public void Different_sizes()
    {
        using var dir = new TempDir();
        var small = dir.File("small.qcow2");
        Img("create", "-q", "-f", "qcow2", small, "4M");
        Io(small, "write -P 1 0 1M");
        var large = dir.File("large.qcow2");
        Img("convert", "-O", "qcow2", small, large);
        Img("resize", "-q", large, "8M");
        AssertSameAsQemu("compare", small, large);
        AssertSameAsQemu("compare", large, small);
        AssertSameAsQemu("compare", "-s", large, small);
        Io(large, "write -z 5M 64k");
        AssertSameAsQemu("compare", small, large);
        Io(large, "write -P 3 7M 4k");
        AssertSameAsQemu("compare", small, large);
    }

    [QemuFact]
    public void Strict_mode_sees_allocation()
    {
        using var dir = new TempDir();
        var (empty, zeroed, prealloc) = (dir.File("e.qcow2"), dir.File("z.qcow2"), dir.File("p.qcow2"));
        Img("create", "-q", "-f", "qcow2", empty, "4M");
        Img("create", "-q", "-f", "qcow2", zeroed, "4M");
        Io(zeroed, "write -z 1M 64k");
        Img("create", "-q", "-f", "qcow2", "-o", "preallocation=metadata", prealloc, "4M");
        AssertSameAsQemu("compare", "-s", empty, zeroed);
        AssertSameAsQemu("compare", empty, zeroed);
        AssertSameAsQemu("compare", "-s", empty, prealloc);
    }

    [QemuFact]
    public void Errors_exit_2()
    {
        using var dir = new TempDir();
        var image = dir.File("x.qcow2");
        Img("create", "-q", "-f", "qcow2", image, "1M");
        var result = ToolRunner.Run("compare", image, dir.File("missing.qcow2"));
        Assert.Equal(2, result.ExitCode);
        Assert.Equal($"qcow2: Could not open '{dir.File("missing.qcow2")}': No such file or directory\n", result.StandardError);
        Assert.Equal(2, ToolRunner.Run("compare", image).ExitCode);
        Assert.Equal(2, Qemu.Img("compare", image, dir.File("missing.qcow2")).ExitCode);
    }
}
